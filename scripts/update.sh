#!/usr/bin/env bash
# Proves rampart update and rampart set on real projects, as a user runs them:
#   update   for each combination of the pairwise-covering subset: rampart as
#            it was at the first release (flask v0.1.0, commit fa4498f, built
#            from git) generates the project; a user's edits are committed (a
#            new route and its test, a changed page template, a new pinned
#            dependency in pyproject.toml); the current rampart updates it.
#            The update must merge without conflict, and the result must be
#            byte for byte what today's rampart new gives with the same edits
#            (so every file is one matrix.sh proves). For the subset covering
#            each choice once, the project's own lint and tests run too.
#   set      a walk of answer changes on one project: cache none -> redis,
#            deploy compose -> kubernetes refused while the database is
#            SQLite, auth session -> oidc, each followed by the project's
#            lint and tests.
# ONLY=name1,name2 picks combinations; KEEP=1 keeps the work directory.
# Needs git with the repository's history, Go, PyPI. Tests run without
# servers (matrix.sh runs the same files against real ones).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rampart-update.XXXXXX)
FIRST_RELEASE=${FIRST_RELEASE:-fa4498f}
# shellcheck source=scripts/lib/common.sh
. "$repo/scripts/lib/common.sh"
# shellcheck source=scripts/lib/venv.sh
. "$repo/scripts/lib/venv.sh"
# Workers still running (an interrupted run) stop before their directories go.
trap 'kill $(jobs -rp) 2>/dev/null || true; wait; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
# A fixed identity and no user hooks for the commits a user would make.
export GIT_AUTHOR_NAME=rampart-proof GIT_AUTHOR_EMAIL=proof@example.com \
  GIT_COMMITTER_NAME=rampart-proof GIT_COMMITTER_EMAIL=proof@example.com GIT_CONFIG_GLOBAL=/dev/null

echo "== building rampart now and at $FIRST_RELEASE (the first release)"
build_tools "$work"
# first_new DIR NAME FLAGS...: the first release's rampart new --yes in DIR.
# Built from the repository's history when it is here; in a shallow clone,
# rendered from that release's frozen archive instead (tools/matrix generate;
# go test proves the archive gives that release's golden projects).
mkdir -p "$work/first"
if git -C "$repo" cat-file -e "$FIRST_RELEASE^{commit}" 2>/dev/null; then
  git -C "$repo" archive "$FIRST_RELEASE" | tar -x -C "$work/first"
  (cd "$work/first" && go build -o "$work/rampart-first" .)
  first_version="its rampart, built from $FIRST_RELEASE"
  first_new() { local dir=$1 name=$2; shift 2; (cd "$dir" && "$work/rampart-first" new "$name" --yes "$@"); }
else
  first_version="its frozen archive (the history of $FIRST_RELEASE is not in this clone)"
  first_new() { local dir=$1 name=$2; shift 2; "$MATRIX" generate v0.1.0 "$dir/$name" "$@"; }
fi
echo "   the first release's projects come from $first_version"
"$MATRIX" pairwise >"$work/pairwise.tsv"
if [ -n "${ONLY:-}" ]; then # ONLY=name1,name2: those combinations only
  awk -F'\t' -v only=",$ONLY," 'index(only, "," $1 ",")' "$work/pairwise.tsv" >"$work/only.tsv"
  mv "$work/only.tsv" "$work/pairwise.tsv"
fi
python3 -m venv "$work/tools" && "$work/tools/bin/pip" install --quiet "$("$MATRIX" pin ruff)"

# user_edits DIR: what a user commits on top of a generated project.
user_edits() {
  local dir=$1 pkg
  pkg=$(sed -n 's/^  package: //p' "$dir/.rampart.yaml")
  cat >>"$dir/src/$pkg/main.py" <<'PY'


@bp.get("/pricing")
def pricing():
    return "Plans start at 5 EUR a month."
PY
  cat >"$dir/tests/test_pricing.py" <<'PY'
def test_pricing_page_is_public(client):
    response = client.get("/pricing")
    assert response.status_code == 200
    assert b"5 EUR" in response.data
PY
  sed -i "s#  </main>#    <p>Prices include VAT.</p>\\n  </main>#" "$dir/src/$pkg/templates/base.html"
  grep -q 'Prices include VAT' "$dir/src/$pkg/templates/base.html" || { echo "the page template has no </main>"; return 1; }
  # A dependency the lock already pins (itsdangerous, through Flask), now direct.
  local pin; pin=$(grep -o '^itsdangerous==[^ ]*' "$dir/requirements.lock")
  sed -i "0,/^dependencies = \[/s//dependencies = [\n    \"$pin\",/" "$dir/pyproject.toml"
  grep -q "\"$pin\"" "$dir/pyproject.toml" || { echo "pyproject.toml has no dependencies list"; return 1; }
}

# lint_and_test DIR LOG: the project's own ruff and pytest (no servers).
lint_and_test() {
  local dir=$1 log=$2 venv
  venv=$work/venvs/$(sha256sum "$dir/requirements-dev.lock" | cut -c1-16)
  venv_from_lock "$dir/requirements-dev.lock" "$venv" >>"$log" 2>&1 || { echo "installing the lock"; return 1; }
  install_project "$venv" "$dir" >>"$log" 2>&1 || { echo "installing the project"; return 1; }
  (cd "$dir" && "$work/tools/bin/ruff" check --quiet --no-cache . && "$work/tools/bin/ruff" format --check --quiet --no-cache .) >>"$log" 2>&1 ||
    { echo "ruff"; return 1; }
  (cd "$dir" && env -u DATABASE_URL -u REDIS_URL -u MEMCACHED_SERVERS "$venv/bin/pytest" -q -p no:cacheprovider) >>"$log" 2>&1 ||
    { echo "pytest"; return 1; }
  grep -E '[0-9]+ passed' "$log" | tail -n 1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//'
}

# The projects whose own lint and tests run: in order, each that brings a
# choice no earlier one had (every value of every question at least once).
# Chosen here, in this shell: prove_update runs in a subshell.
declare -A covered=()
while IFS=$'\t' read -r name flags; do
  set -- $flags
  brings=""
  while [ $# -ge 2 ]; do
    [ -n "${covered[$1=$2]:-}" ] || brings=1
    covered[$1=$2]=1
    shift 2
  done
  [ -z "$brings" ] || echo "$name"
done <"$work/pairwise.tsv" >"$work/tested.txt"

prove_update() { # prove_update NAME FLAGS
  local name=$1 flags=$2 log=$work/$1.log
  local -a args; read -r -a args <<<"$flags"
  mkdir -p "$work/old" "$work/new"
  local status=0
  first_new "$work/old" shop-"$name" "${args[@]}" >"$log" 2>&1 || status=$?
  if [ "$status" = 2 ]; then echo "n/a (the first release refuses this combination)"; return 0; fi
  [ "$status" = 0 ] || { echo "the first release's rampart new failed"; return 1; }
  local dir=$work/old/shop-$name
  git -C "$dir" log --oneline -1 >/dev/null 2>&1 || { echo "the first release made no commit"; return 1; }
  user_edits "$dir" >>"$log" 2>&1 || { echo "user edits"; return 1; }
  git -C "$dir" add -A && git -C "$dir" commit -q -m "Pricing page, a VAT note, itsdangerous pinned"
  status=0
  (cd "$dir" && "$RAMPART" update) >>"$log" 2>&1 || status=$?
  [ "$status" = 0 ] || { echo "rampart update exited $status"; return 1; }
  # Today's rampart new with the same answers and the same edits.
  (cd "$work/new" && "$RAMPART" new shop-"$name" --yes --no-git "${args[@]}") >>"$log" 2>&1 || { echo "rampart new"; return 1; }
  user_edits "$work/new/shop-$name" >>"$log" 2>&1 || { echo "user edits on the new project"; return 1; }
  diff -r -q -x .git -x .env "$work/new/shop-$name" "$dir" >>"$log" 2>&1 ||
    { echo "the updated project differs from rampart new with the same edits"; return 1; }
  local outcome="updated from $(git -C "$dir" show HEAD:.rampart.yaml | sed -n 's/^blueprint_version: //p'), identical to new + edits"
  if grep -qx "$name" "$work/tested.txt"; then
    local tests; tests=$(lint_and_test "$dir" "$log") || { echo "$outcome; $tests failed"; return 1; }
    outcome="$outcome; ruff clean, $tests"
  fi
  echo "$outcome"
}

# update_one NAME FLAGS: one combination's line, and its log's end on failure;
# exit status 1 when it failed.
update_one() {
  local name=$1 flags=$2 started=$SECONDS outcome
  if outcome=$(prove_update "$name" "$flags"); then
    printf 'update   %-40s ok   %s (%d s)\n' "$name" "$outcome" "$((SECONDS - started))"
  else
    printf 'update   %-40s FAILED (%s)\n' "$name" "$outcome"
    tail -n 40 "$work/$name.log" | sed 's/^/    /'
    return 1
  fi
}

step() { # step EXPECTED-EXIT QUESTION=VALUE...
  local want=$1 status=0 started=$SECONDS; shift
  (cd "$project" && "$RAMPART" set "$@") >>"$work/walk.log" 2>&1 || status=$?
  if [ "$status" != "$want" ]; then
    echo "set      $*: FAILED (exit $status, want $want)"; tail -n 20 "$work/walk.log" | sed 's/^/    /'; return 1
  fi
  if [ "$want" != 0 ]; then
    git -C "$project" diff --quiet && [ -z "$(git -C "$project" status --porcelain)" ] ||
      { echo "set      $*: FAILED (refused, but the project changed)"; return 1; }
    echo "set      $*: ok   refused (exit $want): $(tail -n 2 "$work/walk.log" | head -n 1 | sed 's/^rampart: //')"
    return 0
  fi
  git -C "$project" add -A && git -C "$project" commit -q -m "rampart set $*"
  local tests; tests=$(lint_and_test "$project" "$work/walk.log") || { echo "set      $*: FAILED ($tests)"; return 1; }
  echo "set      $*: ok   ruff clean, $tests ($((SECONDS - started)) s)"
}

# set_walk: a walk of answer changes on one project, each step on the one
# before it; exit status 1 when any step failed.
set_walk() {
  local walk=$work/walk bad=0
  mkdir -p "$walk"
  (cd "$walk" && "$RAMPART" new shop --yes --cache none --deploy compose --database sqlite) >"$work/walk.log" 2>&1
  project=$walk/shop
  step 0 cache=redis || bad=$((bad + 1))
  step 2 deploy=kubernetes || bad=$((bad + 1))
  step 0 auth=oidc || bad=$((bad + 1))
  step 0 deploy=kubernetes database=postgres || bad=$((bad + 1))
  [ "$bad" -eq 0 ]
}

# Two workers (two cores): the walk, which is the longest job, and the
# update of each combination run side by side, each in its own directories;
# their reports print in order once all have finished.
uv_bin >/dev/null # installed once, before the workers share it
echo "== update: $(wc -l <"$work/pairwise.tsv") combinations from the first release to today's rampart" \
  "(lint and tests on the $(wc -l <"$work/tested.txt") that bring a choice no earlier one had), beside a walk of rampart set"
mkdir -p "$work/reports"
set_walk >"$work/reports/walk" 2>&1 || touch "$work/reports/walk.failed" &
while IFS=$'\t' read -r name flags; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
  { update_one "$name" "$flags" || touch "$work/reports/$name.failed"; } >"$work/reports/$name" 2>&1 &
done <"$work/pairwise.tsv"
wait
failed=0
while IFS=$'\t' read -r name flags; do
  cat "$work/reports/$name"
  [ ! -e "$work/reports/$name.failed" ] || failed=$((failed + 1))
done <"$work/pairwise.tsv"
echo "== set: a walk of answer changes on one project"
cat "$work/reports/walk"
[ ! -e "$work/reports/walk.failed" ] || failed=$((failed + 1))

echo "update and set: $([ "$failed" -eq 0 ] && echo passed || echo "$failed failed")"
[ "$failed" -eq 0 ]
