#!/usr/bin/env bash
# Runs the generated scheduled update jobs' own shell, taken from today's
# templates (scripts/lib/ci_steps.py), on a project from the first release
# (flask v0.1.0, rendered from its frozen archive) with a user's lock edit
# that must come back as a conflict:
#   install  the newest release of a real module past the cooldown, fetched
#            from the Go proxy (mvdan.cc/gofumpt stands in for rampart, which
#            is not published where this machine can reach); a cooldown no
#            release meets is refused.
#   propose  rampart check, then update with --pr-body: exit 3 tolerated, the
#            conflicted lock committed, a patch and a body handed on.
#   open     the patch applied and pushed to a bare "origin"; the pull request
#            (gh, GitHub) or merge request (GitLab's API over curl) asked for
#            with the body; run again, the existing branch is left alone; no
#            token, a clear refusal. GitHub's and GitLab's APIs are not here: a
#            gh stand-in and a local HTTP server record what the jobs send.
# KEEP=1 keeps the work directory. Needs git, Go, the Go proxy, Python.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rampart-update-jobs.XXXXXX)
# shellcheck source=scripts/lib/common.sh
. "$repo/scripts/lib/common.sh"
api_pid=""
trap '[ -z "$api_pid" ] || kill "$api_pid" 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
export GIT_AUTHOR_NAME=rampart-proof GIT_AUTHOR_EMAIL=proof@example.com \
  GIT_COMMITTER_NAME=rampart-proof GIT_COMMITTER_EMAIL=proof@example.com GIT_CONFIG_GLOBAL=/dev/null

build_tools "$work"
python3 -m venv "$work/py" && "$work/py/bin/pip" install --quiet pyyaml==6.0.3
mkdir -p "$work/bin" "$work/gobin"
ln -s "$RAMPART" "$work/bin/rampart"
export PATH="$work/bin:$PATH" GOBIN="$work/gobin"
failed=0
claim() { # claim DESCRIPTION COMMAND...: one line per claim; the command's output goes to the log
  local desc=$1; shift
  if "$@" >>"$work/log" 2>&1; then
    printf '  ok     %s\n' "$desc"
  else
    printf '  FAILED %s\n' "$desc"
    failed=$((failed + 1))
  fi
}
steps() { "$work/py/bin/python" "$repo/scripts/lib/ci_steps.py" "$@"; }

# old_project DIR CI: what the first release generated, committed, with a
# user's line in requirements.lock (a file the update must not line-merge).
old_project() {
  "$MATRIX" generate v0.1.0 "$1" --ci "$2" >>"$work/log" 2>&1
  echo "# reviewed by us" >>"$1/requirements.lock"
  git -C "$1" commit -q -am "a note in the lock"
}

(cd "$work" && "$RAMPART" new today-gh --yes --no-git --ci github && "$RAMPART" new today-gl --yes --no-git --ci gitlab) >>"$work/log" 2>&1
latest=$(sed -n 's/^blueprint_version: //p' "$work/today-gh/.rampart.yaml")
echo "== the generated update jobs' shell, on a first-release project (today's flask $latest)"
workflow=$work/today-gh/.github/workflows/rampart-update.yml
pipeline=$work/today-gl/.gitlab-ci.yml

echo "-- install (GitHub's step; GitLab's first script item is the same logic)"
steps github "$workflow" propose "install rampart" >"$work/install.sh"
install_step() { # install_step COOLDOWN-DAYS
  (cd "$work" && env RAMPART_MODULE=mvdan.cc/gofumpt WANTED="" COOLDOWN_DAYS="$1" \
    GITHUB_STEP_SUMMARY="$work/summary.md" GOTOOLCHAIN=auto bash -e "$work/install.sh")
}
installed_past_cooldown() {
  install_step 7 || return 1
  local version newer published
  version=$(sed -n 's/^rampart //p' "$work/summary.md" | tail -n 1)
  [ -x "$work/gobin/gofumpt" ] || return 1
  published=$(go list -m -f '{{.Time.Unix}}' "mvdan.cc/gofumpt@$version")
  [ "$published" -le $(($(date +%s) - 7 * 86400)) ] || return 1
  # Every newer release is younger than the cooldown.
  for newer in $(go list -m -versions mvdan.cc/gofumpt | tr ' ' '\n' | tail -n +2 | grep -v -- - |
    awk -v v="$version" 'found {print} $0 == v {found=1}'); do
    [ "$(go list -m -f '{{.Time.Unix}}' "mvdan.cc/gofumpt@$newer")" -gt $(($(date +%s) - 7 * 86400)) ] || return 1
  done
  echo "installed $version" >>"$work/log"
}
refuses_young() {
  install_step 1000000 && return 1
  grep -q "no rampart release is 1000000 days old yet" "$work/log"
}
claim "installs the newest release at least 7 days old, from the Go proxy" installed_past_cooldown
claim "refuses when no release is old enough" refuses_young

echo "-- GitHub: propose, then open"
gh_project=$work/gh/shop
old_project "$gh_project" github
branch_name=$(git -C "$gh_project" branch --show-current)
git clone -q --bare "$gh_project" "$work/gh/origin.git"
base=$(git -C "$gh_project" rev-parse HEAD)
mkdir -p "$work/gh/runner"
steps github "$workflow" propose "rampart check and update" >"$work/gh/propose.sh"
github_propose() {
  (cd "$gh_project" && env RUNNER_TEMP="$work/gh/runner" GITHUB_OUTPUT="$work/gh/output" \
    GITHUB_STEP_SUMMARY="$work/gh/summary.md" bash -e "$work/gh/propose.sh")
}
gh_proposed() {
  github_propose || return 1
  grep -qx behind=true "$work/gh/output" && grep -qx "version=$latest" "$work/gh/output" &&
    [ -s "$work/gh/runner/update/update.patch" ] &&
    grep -q 'conflict(s): resolve before merging' "$work/gh/runner/update/body.md" &&
    grep -q '### Security changes' "$work/gh/runner/update/body.md" &&
    grep -q '# reviewed by us' "$gh_project/requirements.lock" &&
    [ -z "$(git -C "$gh_project" status --porcelain)" ]
}
claim "propose: behind, updated to $latest with the lock conflict committed, a patch and a body" gh_proposed
# The open job: a fresh checkout of the base commit, origin a bare repository.
steps github "$workflow" open "push a branch and open the pull request" >"$work/gh/open.sh"
git clone -q "$work/gh/origin.git" "$work/gh/checkout"
cat >"$work/bin/gh" <<EOF
#!/usr/bin/env bash
# Stand-in for GitHub's API: records the request.
printf '%s\n' "\$@" >"$work/gh/pr-args"
[ "\$GH_TOKEN" = token-for-the-proof ] || { echo "gh: no token" >&2; exit 1; }
while [ \$# -gt 0 ]; do [ "\$1" = --body-file ] && cp "\$2" "$work/gh/pr-body"; shift; done
EOF
chmod +x "$work/bin/gh"
github_open() { # github_open TOKEN
  (cd "$work/gh/checkout" && env VERSION="$latest" UPDATE_TOKEN="$1" RUNNER_TEMP="$work/gh/runner" \
    GITHUB_REF_NAME="$branch_name" GITHUB_STEP_SUMMARY="$work/gh/summary.md" bash -e "$work/gh/open.sh")
}
refused_without_token() {
  github_open "" && return 1
  grep -q "set the secret RAMPART_UPDATE_TOKEN" "$work/log" &&
    ! git -C "$work/gh/origin.git" rev-parse -q --verify "refs/heads/rampart/update-$latest"
}
claim "open: refused without RAMPART_UPDATE_TOKEN, nothing pushed" refused_without_token
opened() {
  github_open token-for-the-proof || return 1
  local pushed; pushed=$(git -C "$work/gh/origin.git" rev-parse "refs/heads/rampart/update-$latest") || return 1
  # The branch is the base plus exactly the propose job's commit.
  [ "$(git -C "$work/gh/origin.git" rev-parse "$pushed^")" = "$base" ] &&
    [ "$(git -C "$work/gh/origin.git" rev-parse "$pushed^{tree}")" = "$(git -C "$gh_project" rev-parse "HEAD^{tree}")" ] &&
    grep -qx -- "--head" "$work/gh/pr-args" && grep -qx "rampart/update-$latest" "$work/gh/pr-args" &&
    grep -qx "rampart update to $latest" "$work/gh/pr-args" && grep -qx "$branch_name" "$work/gh/pr-args" &&
    cmp -s "$work/gh/pr-body" "$work/gh/runner/update/body.md"
}
claim "open: pushes rampart/update-$latest (base + the proposed commit) and asks for the pull request with the body" opened
left_alone() {
  local before; before=$(git -C "$work/gh/origin.git" rev-parse "refs/heads/rampart/update-$latest")
  rm -f "$work/gh/pr-args"
  git -C "$work/gh/checkout" checkout -q "$branch_name"
  github_open token-for-the-proof || return 1
  [ "$(git -C "$work/gh/origin.git" rev-parse "refs/heads/rampart/update-$latest")" = "$before" ] && [ ! -e "$work/gh/pr-args" ]
}
claim "open again: the existing branch is left as it is, no second pull request" left_alone

echo "-- GitLab: propose, then open"
gl_project=$work/gl/shop
old_project "$gl_project" gitlab
git clone -q --bare "$gl_project" "$work/gl/origin.git"
steps gitlab "$pipeline" rampart-propose >"$work/gl/propose.sh"
steps gitlab "$pipeline" rampart-open >"$work/gl/open.sh"
gitlab_propose() {
  (cd "$gl_project" && env RAMPART_MODULE=mvdan.cc/gofumpt GOTOOLCHAIN=auto CI_PROJECT_DIR="$gl_project" \
    CI_SERVER_HOST=gitlab.example.com bash -e "$work/gl/propose.sh")
}
gl_proposed() {
  gitlab_propose || return 1
  [ -s "$gl_project/update/update.patch" ] && [ "$(cat "$gl_project/update/version")" = "$latest" ] &&
    grep -q 'conflict(s): resolve before merging' "$gl_project/update/body.md" &&
    # update/ is the artifact, never part of the commit.
    ! git -C "$gl_project" ls-files --error-unmatch update >/dev/null 2>&1
}
claim "propose: installs past the cooldown, updates to $latest with the lock conflict, hands on update/" gl_proposed
# The open job: a fresh checkout with the artifact; GitLab's API is a local
# server that records the merge request.
git clone -q "$work/gl/origin.git" "$work/gl/checkout"
cp -r "$gl_project/update" "$work/gl/checkout/update"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 - "$port" "$work/gl/request" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

class Recorder(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "w") as out:
            out.write(f"{self.path}\n{self.headers.get('PRIVATE-TOKEN')}\n{body.decode()}\n")
        self.send_response(201)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass

HTTPServer(("127.0.0.1", int(sys.argv[1])), Recorder).serve_forever()
PY
api_pid=$!
gitlab_open() {
  (cd "$work/gl/checkout" && env RAMPART_UPDATE_TOKEN=token-for-the-proof CI_SERVER_URL="file://$work/gl" \
    CI_PROJECT_PATH=origin CI_SERVER_HOST=gitlab.example.com CI_DEFAULT_BRANCH="$branch_name" \
    CI_API_V4_URL="http://127.0.0.1:$port/api/v4" CI_PROJECT_ID=7 bash -e "$work/gl/open.sh")
}
gl_opened() {
  local i
  for i in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port))" 2>/dev/null && break; sleep 0.1; done
  gitlab_open || return 1
  git -C "$work/gl/origin.git" rev-parse -q --verify "refs/heads/rampart/update-$latest" >/dev/null &&
    "$work/py/bin/python" - "$work/gl/request" "$work/gl/checkout/update/body.md" "$latest" "$branch_name" <<'PY'
import sys
from urllib.parse import parse_qs
path, token, form = open(sys.argv[1]).read().split("\n", 2)
fields = {k: v[0] for k, v in parse_qs(form.strip()).items()}
assert path == "/api/v4/projects/7/merge_requests", path
assert token == "token-for-the-proof", token
assert fields["source_branch"] == f"rampart/update-{sys.argv[3]}", fields
assert fields["target_branch"] == sys.argv[4], fields
assert fields["title"] == f"rampart update to {sys.argv[3]}", fields
assert fields["description"].strip() == open(sys.argv[2]).read().strip(), "the description is not the body"
PY
}
claim "open: pushes rampart/update-$latest and asks GitLab's API for the merge request with the body" gl_opened

echo "update jobs: $([ "$failed" -eq 0 ] && echo passed || echo "$failed failed")"
[ "$failed" -eq 0 ]
