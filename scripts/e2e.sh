#!/usr/bin/env bash
# End-to-end proof: build rampart, generate projects, install each from PyPI into
# a fresh virtualenv, and run its linters and test suite on SQLite and against
# real PostgreSQL and Redis servers started here on 127.0.0.1.
#
#   scripts/e2e.sh            all projects
#   KEEP=1 scripts/e2e.sh     keep the work directory for inspection
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rampart-e2e.XXXXXX")
# shellcheck source=scripts/services.sh
. "$repo/scripts/services.sh"
cleanup() { stop_services; [ -n "${KEEP:-}" ] || rm -rf "$work"; }
trap cleanup EXIT

export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_CACHE_DIR=${PIP_CACHE_DIR:-$work/pip-cache}

echo "== building rampart"
(cd "$repo" && go build -o "$work/rampart" .)
"$work/rampart" version | head -1

echo "== starting servers"
start_services "$work/services"

# name|flags: the projects to prove.
projects=(
  "defaults|--yes"
  "sqlite-nocache|--database sqlite --cache none --yes"
  "noauth|--auth none --yes"
)

summary=()
failed=0

step() { # step LOG LABEL CMD...: run a step, keep its output, show it on failure
  local log=$1 label=$2; shift 2
  echo "-- $label" >>"$log"
  if "$@" >>"$log" 2>&1; then return 0; fi
  echo "FAILED: $label" >&2
  tail -n 60 "$log" >&2
  return 1
}

pytest_count() { # the last pytest summary line in a log
  grep -E '[0-9]+ (passed|failed)' "$1" | tail -n 1 | sed -E 's/^=+ //; s/ in [0-9.]+s.*//'
}

prove() {
  local name=$1 flags=$2 dir=$work/$1 log=$work/$1.log
  local -a extra
  read -r -a extra <<<"$flags"
  echo "== $name: rampart new $name $flags"
  (cd "$work" && "$work/rampart" new "$name" --no-git "${extra[@]}") >"$log" 2>&1 || { tail "$log"; return 1; }
  local db cache pkg
  db=$(sed -n 's/^ *database: //p' "$dir/.rampart.yaml")
  cache=$(sed -n 's/^ *cache: //p' "$dir/.rampart.yaml")
  pkg=$(sed -n 's/^ *package: //p' "$dir/.rampart.yaml")

  step "$log" "install" python3 -m venv "$dir/.venv" || return 1
  step "$log" "pip install" "$dir/.venv/bin/pip" install --quiet -e "$dir[dev]" || return 1
  local bin=$dir/.venv/bin
  step "$log" "ruff" bash -c "cd '$dir' && '$bin/ruff' check ." || return 1
  step "$log" "bandit" bash -c "cd '$dir' && '$bin/bandit' --quiet --recursive src" || return 1
  step "$log" "pytest (sqlite)" bash -c "cd '$dir' && env -u DATABASE_URL -u REDIS_URL '$bin/pytest' -q -p no:cacheprovider" || return 1
  local on_sqlite; on_sqlite=$(pytest_count "$log")

  local servers=() envs=()
  if [ "$db" = postgres ]; then
    create_database "$name"
    envs+=("DATABASE_URL=$POSTGRES_URL_BASE/$name"); servers+=(postgres)
  fi
  if [ "$cache" = redis ]; then
    envs+=("REDIS_URL=$REDIS_URL_BASE/0"); servers+=(redis)
  fi
  local on_servers="n/a (no server in this stack)"
  if [ ${#servers[@]} -gt 0 ]; then
    step "$log" "pytest (${servers[*]})" bash -c "cd '$dir' && env ${envs[*]} '$bin/pytest' -q -p no:cacheprovider" || return 1
    on_servers="$(pytest_count "$log") on ${servers[*]}"
  fi
  local migrated="n/a"
  if [ "$db" = postgres ]; then
    create_database "${name}_migrate"
    step "$log" "flask db upgrade (postgres)" bash -c "cd '$dir' && env FLASK_SKIP_DOTENV=1 APP_ENV=production \
      SECRET_KEY=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n') TRUSTED_HOSTS=localhost \
      DATABASE_URL=$POSTGRES_URL_BASE/${name}_migrate REDIS_URL=$REDIS_URL_BASE/1 \
      '$bin/flask' --app '$pkg' db upgrade" || return 1
    migrated=$(psql "$POSTGRES_URL_BASE/${name}_migrate" -Atqc 'SELECT version_num FROM alembic_version' 2>/dev/null || true)
    migrated="at ${migrated:-base (no revisions yet)}"
  fi
  summary+=("$(printf '%-15s ok   sqlite: %s | servers: %s | postgres migration: %s' "$name" "$on_sqlite" "$on_servers" "$migrated")")
}

for entry in "${projects[@]}"; do
  if ! prove "${entry%%|*}" "${entry#*|}"; then
    summary+=("$(printf '%-15s FAILED (log: %s)' "${entry%%|*}" "$work/${entry%%|*}.log")")
    failed=$((failed + 1))
  fi
done

echo
echo "== e2e summary"
printf '%s\n' "${summary[@]}"
echo "e2e: $(( ${#projects[@]} - failed )) passed, $failed failed"
[ "$failed" -eq 0 ]
