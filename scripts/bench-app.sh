#!/usr/bin/env bash
# What the security stack costs a generated app: wrk against the app's pages
# and against a bare Flask "hello" app under the same gunicorn.conf.py and
# worker count, on 127.0.0.1 only, with real PostgreSQL and Redis. Prints
# requests/s, p50 and p99 per endpoint, each as a ratio to the baseline of
# the same round, and the time from process start to the first /healthz.
# Installs what it needs (wrk and the servers from Debian; the app's locked
# requirements, and pyinstrument when profiling, from PyPI).
#
#   bash scripts/bench-app.sh                  # print the tables
#   UPDATE_DOCS=1 bash scripts/bench-app.sh    # also write them into docs/performance.md
#
# Settings: DURATION seconds per wrk run (10), CONNECTIONS (8), WRK_THREADS (1),
# ROUNDS (3; the baseline is measured in every round), STARTUP_RUNS (5),
# PROFILE=1 (pyinstrument profiles even when every target is met; they are
# written whenever one is missed), STRICT=1 (exit 1 when a target is missed),
# OUT (results directory, default .bench/), KEEP=1 (keep the work directory).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-8}
WRK_THREADS=${WRK_THREADS:-1}
ROUNDS=${ROUNDS:-3}
STARTUP_RUNS=${STARTUP_RUNS:-5}
OUT=${OUT:-$repo/.bench}
# Below Linux's ephemeral range (32768-60999): a client polling a port in
# that range before its server listens can be handed that very port as its own
# source port and connect to itself (it then reads back its own request).
APP_PORT=18000
BASELINE_PORT=18001
STARTUP_PORT=18002
PYINSTRUMENT=pyinstrument==5.1.3
work=$(mktemp -d /tmp/rampart-bench-app.XXXXXX)
results=$OUT/app
rm -rf "$results"
mkdir -p "$results"

. "$repo/scripts/services.sh"
# shellcheck source=scripts/lib/venv.sh
. "$repo/scripts/lib/venv.sh"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_services
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "== tools"
install_commands wrk
wrk --version 2>&1 | head -n 1 || true

echo "== servers"
start_services "$work/services"

echo "== the generated app (default answers) and the baseline"
build_tools "$work"
(cd "$work" && "$RAMPART" new bench --yes --no-git >/dev/null)
dir=$work/bench
read_facts "$dir"
combination=$answer_database-$answer_cache-$answer_auth-$answer_deploy-$answer_ci
# The dev lock adds the build backend an editable install needs (and test
# tools). Virtualenvs are kept between runs, one per lock file.
venv=${BENCH_VENVS:-/tmp/rampart-bench-venvs}/$(sha256sum "$dir/requirements-dev.lock" | cut -c1-16)
# Byte-compiled at install, as pip does: start-up figures must not include it.
UV_COMPILE_BYTECODE=1 venv_from_lock "$dir/requirements-dev.lock" "$venv"
install_project "$venv" "$dir"
mkdir -p "$work/baseline"
cat >"$work/baseline/hello.py" <<'PY'
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "Hello, World!"
PY

# The servers the defaults use, from the manifest (Redis database 3).
servers=() wanted=$(project_servers "$dir" bench 3)
while read -r _ setting; do [ -z "$setting" ] || servers+=("$setting"); done <<<"$wanted"
# Production settings behind one TLS-terminating proxy, whose headers wrk
# sends (Host, X-Forwarded-Proto), as in every generated deployment.
# Mail, for a project that sends it: its own catcher (make mail) on loopback.
mail_port=$(free_port) mail_dir=$work/mail mail_args=()
if [ -f "$dir/tests/dev_mail.py" ]; then
  start_mail_catcher "$dir" "$venv/bin/python" "$mail_port" "$mail_dir" "$work/mail.log"
  mail_args=(--mail-dir "$mail_dir")
fi
env=(APP_ENV=production FLASK_SKIP_DOTENV=1 TRUSTED_HOSTS=localhost FORWARDED_PROXIES=1
  "SECRET_KEY=$(random_hex)" "ENCRYPTION_KEYS=$(random_hex)" "${servers[@]}" MAIL_SERVER=127.0.0.1 "MAIL_PORT=$mail_port" MAIL_TLS=none MAIL_FROM=bench@localhost
  GUNICORN_WORKERS=2 GUNICORN_THREADS=4 LOG_LEVEL=warning)
(cd "$dir" && env "${env[@]}" "$venv/bin/flask" --app "$answer_package" db upgrade >"$work/migrate.log" 2>&1) ||
  { cat "$work/migrate.log"; exit 1; }

# The same config file, environment and worker count for both apps; the
# baseline names its app on the command line, which overrides wsgi_app.
gunicorn=(env "${env[@]}" "$venv/bin/gunicorn" --config "$dir/gunicorn.conf.py")
"${gunicorn[@]}" --bind "127.0.0.1:$APP_PORT" --chdir "$dir" >"$work/app.log" 2>&1 &
pids+=($!)
"${gunicorn[@]}" --bind "127.0.0.1:$BASELINE_PORT" --chdir "$work/baseline" hello:app >"$work/baseline.log" 2>&1 &
pids+=($!)
wait_ok() {
  for _ in $(seq 100); do
    curl -s -o /dev/null -H 'Host: localhost' -H 'X-Forwarded-Proto: https' -w '%{http_code}' "$1" 2>/dev/null |
      grep -q 200 && return 0
    sleep 0.2
  done
  echo "$1 never answered 200"; tail -n 20 "$work/app.log" "$work/baseline.log"; exit 1
}
wait_ok "http://127.0.0.1:$APP_PORT/healthz"
wait_ok "http://127.0.0.1:$BASELINE_PORT/"
cookie=$(python3 "$repo/scripts/lib/bench_app.py" login --base "http://127.0.0.1:$APP_PORT" "${mail_args[@]}")

# name, port, path, what the request exercises (the baseline comes first).
endpoints=(
  "baseline|$BASELINE_PORT|/|bare Flask, one route returning a string"
  "public|$APP_PORT|/|proxy fix, host check, HTTPS and body-size checks, request id, session, log-in state, CSRF hook, security headers, a Jinja page"
  "healthz|$APP_PORT|/healthz|liveness, answered in front of Flask (LivenessProbe) with the same security headers"
  "login-page|$APP_PORT|/auth/login|form with a CSRF token: a new server-side session written to Redis"
  "logged-in|$APP_PORT|/account|session read from Redis, user loaded from PostgreSQL, CSRF token for log-out"
)
run_wrk() { # run_wrk LABEL NAME PORT PATH SECONDS
  local headers=(-H 'Host: localhost' -H 'X-Forwarded-Proto: https')
  [ "$2" = logged-in ] && headers+=(-H "Cookie: $cookie")
  wrk -t "$WRK_THREADS" -c "$CONNECTIONS" -d "${5}s" --timeout 5s -s "$repo/scripts/lib/bench_wrk.lua" \
    "${headers[@]}" "http://127.0.0.1:$3$4" >"$work/wrk-$1-$2.txt"
  tail -n 1 "$work/wrk-$1-$2.txt"
}

echo "== warm-up (2 s per endpoint, not counted)"
for e in "${endpoints[@]}"; do
  IFS='|' read -r name port path _ <<<"$e"
  run_wrk warm "$name" "$port" "$path" 2 >/dev/null
done
echo "== $ROUNDS round(s) of ${DURATION} s per endpoint, $CONNECTIONS connections"
for round in $(seq "$ROUNDS"); do
  for e in "${endpoints[@]}"; do
    IFS='|' read -r name port path _ <<<"$e"
    run_wrk "$round" "$name" "$port" "$path" "$DURATION" >"$results/wrk-$round-$name.json"
    printf '  round %s %-10s %s\n' "$round" "$name" "$(cat "$results/wrk-$round-$name.json")"
  done
done
for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
pids=()

echo "== start-up: process start to first 200 ($STARTUP_RUNS runs each)"
bench_py=$repo/scripts/lib/bench_app.py
python3 "$bench_py" startup --url "http://127.0.0.1:$STARTUP_PORT/healthz" --runs "$STARTUP_RUNS" \
  --log "$work/startup.log" -- "${gunicorn[@]}" --bind "127.0.0.1:$STARTUP_PORT" --chdir "$dir" >"$results/startup.json"
python3 "$bench_py" startup --url "http://127.0.0.1:$STARTUP_PORT/" --runs "$STARTUP_RUNS" \
  --log "$work/startup.log" -- "${gunicorn[@]}" --bind "127.0.0.1:$STARTUP_PORT" --chdir "$work/baseline" \
  hello:app >"$results/startup-baseline.json"
(cd "$dir" && env "${env[@]}" "$venv/bin/python" "$bench_py" create-app-time --package bench) >"$results/create-app.json"

echo "== results"
endpoint_json=$(for e in "${endpoints[@]:1}"; do
  IFS='|' read -r name _ path what <<<"$e"; printf '%s\n' "$name" "$path" "$what"; done |
  python3 -c 'import json, sys; v = sys.stdin.read().splitlines(); print(json.dumps([v[i:i + 3] for i in range(0, len(v), 3)]))')
meta=$(python3 -c 'import json, sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
  python "$("$venv/bin/python" --version)" gunicorn "$("$venv/bin/gunicorn" --version | awk '{print $NF}' | tr -d '()')" \
  combination "$combination" workers 2 threads 4 wrk_threads "$WRK_THREADS" connections "$CONNECTIONS" \
  duration "$DURATION" rounds "$ROUNDS")
missed=0
python3 "$bench_py" report --results "$results" --endpoints "$endpoint_json" --meta "$meta" \
  --markdown "$OUT/app.md" --strict || missed=1

if [ "$missed" = 1 ] || [ -n "${PROFILE:-}" ]; then
  echo "== pyinstrument profiles (in-process, no gunicorn)"
  "$venv/bin/pip" install --quiet "$PYINSTRUMENT"
  profile_endpoints=$(python3 -c 'import json, sys; v = json.loads(sys.argv[1]); print(json.dumps([[n, p] for n, p, _ in v]))' "$endpoint_json")
  (cd "$dir" && env "${env[@]}" "$venv/bin/python" "$bench_py" profile --package bench \
    --endpoints "$profile_endpoints" --cookie "$cookie" --out "$OUT/profiles")
  for f in "$OUT"/profiles/*.txt; do echo "--- $f"; head -n 40 "$f"; done
fi

if [ -n "${UPDATE_DOCS:-}" ]; then
  python3 "$repo/scripts/lib/splice_doc.py" "$repo/docs/performance.md" bench-app "$OUT/app.md"
  echo "docs/performance.md updated"
fi
if [ "$missed" = 1 ]; then
  echo "a target was missed (see the table above)"
  [ -z "${STRICT:-}" ] || exit 1
fi
