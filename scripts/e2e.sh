#!/usr/bin/env bash
# Live proof of generated projects, for a pairwise-covering subset of the
# choices (or ONLY=name1,name2): each project is started under gunicorn in
# production mode on 127.0.0.1 (HTTPS on 443 with a throw-away certificate,
# plain HTTP on 80), against real PostgreSQL, MariaDB, Redis or memcached, and
#   - every test its README's "Security controls" table names is run and must
#     pass, none skipped;
#   - scripts/lib/live_probe.py checks headers, cookies, the HTTPS redirect,
#     CSRF, 429, 413, foreign Host and error bodies over real HTTP;
#   - /readyz turns 503 while the database (or cache) server is stopped and
#     200 when it is back, and is refused (404) to requests through a proxy;
#   - the deploy target's own proxy, from Debian (Caddy for compose, nginx for
#     vm; once each, as their configuration does not depend on the answers),
#     runs the project's Caddyfile or nginx.conf in front of gunicorn: pages
#     are not compressed, /readyz is refused, and slow clients that stall
#     gunicorn when they reach it directly do not stall it behind the proxy;
#   - headless Chromium registers, logs in and out (session; OIDC against the
#     project's stub provider served over TLS), failing on any CSP violation
#     or console error, and saves a screenshot under $ARTIFACTS; a project that
#     sends mail sends it to its own catcher (tests/dev_mail.py) on loopback,
#     and Chromium follows a mailed password reset link and sees the old
#     session end; with an API (jwt), a page at CLIENT_APP_URL registers
#     through it, adds a passkey from a virtual authenticator and logs in
#     with it, then schemathesis fuzzes the API from its OpenAPI document;
#   - the MDN HTTP Observatory scanner grades the running app (target A+);
#   - the project's own dynamic scan, `make dast` (wapiti, its rules file),
#     against its real servers: no finding its rules do not explain;
#   - the Mermaid diagrams of docs/threat-model.md render (mermaid-cli).
# Needs root (ports 80 and 443, Debian packages). Installs what it needs.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rampart-e2e.XXXXXX)
ARTIFACTS=${ARTIFACTS:-$repo/.e2e-artifacts}
TOOLS=${E2E_TOOLS:-/tmp/rampart-e2e-tools}
mkdir -p "$ARTIFACTS"

# shellcheck source=scripts/services.sh
. "$repo/scripts/services.sh"
# shellcheck source=scripts/lib/proof_cache.sh
. "$repo/scripts/lib/proof_cache.sh"
# shellcheck source=scripts/lib/venv.sh
. "$repo/scripts/lib/venv.sh"

pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  stop_services
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

echo "== tools"
install_commands chromium openssl caddy nginx
# Under systemd Debian starts a freshly installed caddy or nginx on port 80,
# which this script needs; each proxy runs here from its own configuration.
if [ -d /run/systemd/system ]; then
  for service in caddy nginx; do
    [[ " ${INSTALLED[*]} " != *" $service "* ]] || as_root systemctl disable --now "$service" >/dev/null 2>&1 || true
  done
fi
mkdir -p "$TOOLS"
if [ ! -x "$TOOLS/node_modules/.bin/mmdc" ]; then
  # --ignore-scripts: the Observatory's CA-bundle download and Puppeteer's
  # browser download are not wanted (Debian's Chromium is used, and the
  # scanner is given the throw-away CA).
  (cd "$TOOLS" && echo '{"private": true}' >package.json &&
    PUPPETEER_SKIP_DOWNLOAD=1 npm install --ignore-scripts --no-audit --no-fund --loglevel=error \
      @mdn/mdn-http-observatory@1.4.8 playwright-core@1.65.1 @mermaid-js/mermaid-cli@11.12.0 >/dev/null)
fi
echo "$(chromium --version 2>/dev/null), node $(node --version)," \
  "playwright-core $(node -p "require('$TOOLS/node_modules/playwright-core/package.json').version")," \
  "mdn-http-observatory $(node -p "require('$TOOLS/node_modules/@mdn/mdn-http-observatory/package.json').version")," \
  "mermaid-cli $(node -p "require('$TOOLS/node_modules/@mermaid-js/mermaid-cli/package.json').version")"
# The scanner's HSTS preload list is downloaded by an install script (skipped:
# no network); an empty list is exact for localhost, which is not preloaded.
[ -f "$TOOLS/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json" ] ||
  echo '{}' >"$TOOLS/node_modules/@mdn/mdn-http-observatory/conf/hsts-preload.json"
printf '{"executablePath": "/usr/bin/chromium", "args": ["--no-sandbox"]}\n' >"$work/puppeteer.json"
# The API fuzzer, for projects whose log-in is a token (their OpenAPI document).
if [ ! -x "$TOOLS/schemathesis/bin/schemathesis" ]; then
  python3 -m venv "$TOOLS/schemathesis" &&
    "$TOOLS/schemathesis/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
echo "schemathesis $("$TOOLS/schemathesis/bin/schemathesis" --version | grep -o '[0-9][0-9.]*' | head -n 1)"

# The throw-away certificate for localhost (and 127.0.0.1), valid one day.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

echo "== servers"
start_services "$work/services"

echo "== combinations"
build_tools "$work"
"$MATRIX" pairwise >"$work/pairwise.tsv"
if [ -n "${ONLY:-}" ]; then
  "$MATRIX" all | awk -F'\t' -v only=",$ONLY," '$3 == "" && index(only, "," $1 ",")' >"$work/pairwise.tsv"
fi
count=$(wc -l <"$work/pairwise.tsv")
[ "$count" -gt 0 ] || { echo "no combination to prove (ONLY=$ONLY names none; see go run ./tools/matrix all)"; exit 2; }
echo "$count combinations"

# wait_for URL STATUS: poll (at most 100 times, 0.2 s apart) until URL answers STATUS.
wait_for() {
  local code=""
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$work/cert.pem" --max-time 5 "$1" || true)
    [ "$code" = "$2" ] && return 0
    sleep 0.2
  done
  echo "  FAIL $1 answered $code, want $2 (after 20 s)"
  return 1
}

# prove_proxy DIR: the deploy target's own proxy (its proxy and proxy_config
# attributes in the manifest), from Debian, in
# front of gunicorn on 127.0.0.1:8000 as in production (FORWARDED_PROXIES=1),
# on ports 80 and 443 (the direct gunicorns are stopped first). Reads
# prove_live's name, env and venv. The project's file runs with these
# substitutions only, each checked to have applied:
#   Caddyfile: a tls line for the throw-away certificate (instead of Let's
#     Encrypt), 127.0.0.1:8000 for the compose service app:8000, and
#     buffer_requests for request_buffers 1MB (the same buffering in the
#     spelling of Debian's Caddy 2.6; the image's Caddy 2.10 has only the
#     latter, bounded here by request_body's max_size either way);
#   nginx.conf: the throw-away certificate's paths; it is included, as on a
#     real host, by Debian's own /etc/nginx/nginx.conf (which turns gzip on),
#     with that file's pid, logs and sites-enabled include moved into $work.
proxies_proved=""
prove_proxy() {
  local dir=$1 proxy=$choice_deploy_proxy conf
  if [ -z "$proxy" ]; then
    echo "  n/a  proxy in front: the $choice_deploy_label files configure none of their own (the app's own /readyz refusal is probed above)"
    return 0
  fi
  case $proxy in caddy | nginx) ;; *)
    echo "  FAIL deploy=$answer_deploy's proxy $proxy: this script runs caddy or nginx; teach prove_proxy the new one"
    return 1 ;;
  esac
  if [[ " $proxies_proved " == *" $proxy "* ]]; then
    echo "  n/a  $proxy in front: proved with an earlier project (its configuration does not depend on the answers)"
    return 0
  fi
  proxies_proved+=" $proxy"
  stop_app
  (cd "$dir" && exec env "${env[@]}" FORWARDED_PROXIES=1 "$venv/bin/gunicorn" --config gunicorn.conf.py \
    --bind 127.0.0.1:8000 >"$work/$name-proxied.log" 2>&1) &
  app_pids+=($!); pids+=($!)
  wait_for http://127.0.0.1:8000/healthz 200 || { tail -n 20 "$work/$name-proxied.log"; return 1; }
  if [ "$proxy" = caddy ]; then
    conf=$work/$name-Caddyfile
    sed -e "s#^{\$PUBLIC_HOST} {\$#&\n\ttls $work/cert.pem $work/key.pem#" \
      -e 's#reverse_proxy app:8000 {#reverse_proxy 127.0.0.1:8000 {#' \
      -e 's#request_buffers 1MB#buffer_requests#' "$dir/$choice_deploy_proxy_config" >"$conf"
    [ "$(diff "$dir/$choice_deploy_proxy_config" "$conf" | grep -c '^>')" = 3 ] ||
      { echo "  FAIL the Caddyfile no longer takes this script's 3 substitutions"; return 1; }
    (PUBLIC_HOST=localhost XDG_DATA_HOME=$work/caddy XDG_CONFIG_HOME=$work/caddy \
      exec caddy run --adapter caddyfile --config "$conf" >"$work/$name-caddy.log" 2>&1) &
  else
    conf=$work/$name-nginx.conf
    sed -e "s#ssl_certificate /etc/letsencrypt/live/[^;]*;#ssl_certificate $work/cert.pem;#" \
      -e "s#ssl_certificate_key /etc/letsencrypt/live/[^;]*;#ssl_certificate_key $work/key.pem;#" \
      "$dir/$choice_deploy_proxy_config" >"$conf"
    sed -e "s#^pid .*#pid $work/nginx.pid;#" -e "s#^error_log .*#error_log $work/$name-nginx.log;#" \
      -e "s#access_log .*#access_log off;#" -e "s#include /etc/nginx/sites-enabled/\*;#include $conf;#" \
      /etc/nginx/nginx.conf >"$work/nginx-main.conf"
    [ "$(diff "$dir/$choice_deploy_proxy_config" "$conf" | grep -c '^>')" = 2 ] &&
      [ "$(diff /etc/nginx/nginx.conf "$work/nginx-main.conf" | grep -c '^>')" = 4 ] ||
      { echo "  FAIL nginx.conf or Debian's nginx.conf no longer takes this script's substitutions"; return 1; }
    nginx -q -t -c "$work/nginx-main.conf" -e "$work/$name-nginx.log" || { echo "  FAIL nginx -t"; return 1; }
    (exec nginx -c "$work/nginx-main.conf" -e "$work/$name-nginx.log" -g 'daemon off;') &
  fi
  app_pids+=($!); pids+=($!)
  wait_for https://localhost/healthz 200 || { tail -n 20 "$work/$name-$proxy.log"; return 1; }
  local version
  if [ "$proxy" = caddy ]; then version=$(caddy version); else version=$(nginx -v 2>&1 | sed 's#.*/##'); fi
  echo "  ok   $proxy $version (Debian's) runs the project's own configuration in front of gunicorn"
  python3 "$repo/scripts/lib/live_probe.py" --cafile "$work/cert.pem" --login "$choice_auth_login" --proxy "$proxy" \
    --direct 127.0.0.1:8000 || return 1
  # A form whose body the app reads, where there is one: slow uploads too.
  local body=()
  case $choice_auth_login in form | provider) body=(--body-path /auth/logout) ;; esac
  python3 "$repo/scripts/lib/slow_clients.py" --cafile "$work/cert.pem" --direct 127.0.0.1:8000 "${body[@]}"
}

stop_app() {
  local pid
  # SIGINT: gunicorn's quick shutdown (SIGTERM waits graceful_timeout).
  for pid in "${app_pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
  for pid in "${app_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  app_pids=()
}

prove_live() { # prove_live NAME FLAGS
  local name=$1 flags=$2 dir=$work/projects/$1
  local -a args
  read -r -a args <<<"$flags"
  mkdir -p "$work/projects"
  (cd "$work/projects" && "$RAMPART" new "$name" --yes --no-git "${args[@]}" >/dev/null) || { echo "  FAIL rampart new"; return 1; }
  local key; key=$(proof_key "$dir")
  read_facts "$dir" || { echo "  FAIL tools/matrix facts"; return 1; }

  local venv=$work/venvs/$(sha256sum "$dir/requirements-dev.lock" | cut -c1-16)
  venv_from_lock "$dir/requirements-dev.lock" "$venv" || { echo "  FAIL installing the lock"; return 1; }
  install_project "$venv" "$dir" || { echo "  FAIL installing the project"; return 1; }

  # The API's client application; the browser serves its page (browser.mjs).
  local client_app=https://app.example.com
  local env=(APP_ENV=production FLASK_SKIP_DOTENV=1 TRUSTED_HOSTS=localhost FORWARDED_PROXIES=0
    "SECRET_KEY=$(random_hex)" "JWT_SECRET_KEY=$(random_hex)" "ENCRYPTION_KEYS=$(random_hex)" "CLIENT_APP_URL=$client_app"
    GUNICORN_WORKERS=2 LOG_LEVEL=WARNING)
  # The servers and their settings come from the manifest (choice attributes);
  # the first is the one stopped to watch /readyz turn 503.
  local backend="" server="" servers=() server_env=() wanted srv setting
  wanted=$(project_servers "$dir" "e2e_$name" 2) || { echo "  FAIL the project's servers"; return 1; }
  while read -r srv setting; do
    [ -n "$setting" ] || continue
    env+=("$setting"); server_env+=("$setting"); servers+=("$srv")
    if [ -z "$server" ]; then
      server=$srv backend="the cache"
      [ "${setting%%=*}" != "$choice_database_setting" ] || backend="the database"
    fi
  done <<<"$wanted"
  # A database without a server (SQLite) is a file.
  if [ -n "$choice_database_setting" ] && [ -z "$choice_database_server" ]; then
    mkdir -p "$dir/instance"
    env+=("$choice_database_setting=$choice_database_scheme:///$dir/instance/e2e.sqlite3")
  fi

  # The controls table's tests, against the real servers: all must pass, none skipped.
  local ids
  ids=$(grep -o '`tests/[a-z0-9_/]*\.py::test_[a-z0-9_]*`' "$dir/README.md" | tr -d '`' | sort -u)
  if proof_known "$key"; then
    echo "  ok   the controls table's $(wc -w <<<"$ids") tests: this very content passed its whole suite" \
      "against real servers, none skipped (matrix.sh's server phase; key $key)"
  else
    # The servers' settings only (the tests make their own apps); SQLite tests use their own files.
    if ! (cd "$dir" && env "${server_env[@]}" "$venv/bin/pytest" -q -p no:cacheprovider --junitxml="$work/$name-controls.xml" \
        $ids >"$work/$name-controls.log" 2>&1); then
      tail -n 20 "$work/$name-controls.log"; echo "  FAIL the controls table's tests"; return 1
    fi
    local counts
    counts=$(python3 -c "import sys, xml.etree.ElementTree as t
root = t.parse(sys.argv[1]).getroot()
suite = root if root.tag == 'testsuite' else root.find('testsuite')
print(*(suite.get(k) for k in ('tests', 'skipped', 'failures', 'errors')))" "$work/$name-controls.xml")
    read -r total skipped failures errors <<<"$counts"
    if [ "$skipped" != 0 ] || [ "$failures" != 0 ] || [ "$errors" != 0 ]; then
      echo "  FAIL the controls table's tests: $counts (tests skipped failures errors)"; return 1
    fi
    echo "  ok   the controls table names $(wc -w <<<"$ids") tests: $total run, all passed, none skipped"
  fi

  # The identity provider, for log-in through one: the project's own stub, served over TLS.
  if [ "$choice_auth_login" = provider ]; then
    (cd "$dir" && exec "$venv/bin/python" - "$work/cert.pem" "$work/key.pem" >"$work/idp.env" 2>"$work/idp.log" <<'PY'
import sys
from werkzeug.serving import make_server
from tests.oidc_provider import StubProvider

provider = StubProvider()
server = make_server("127.0.0.1", 0, provider.app(), threaded=True, ssl_context=(sys.argv[1], sys.argv[2]))
provider.issuer = f"https://localhost:{server.server_port}"
for key, value in provider.settings().items():
    print(f"{key}={value}", flush=True)
server.serve_forever()
PY
    ) &
    app_pids+=($!); pids+=($!)
    for _ in $(seq 50); do grep -q OIDC_CLIENT_SECRET "$work/idp.env" 2>/dev/null && break; sleep 0.2; done
    while IFS= read -r e; do env+=("$e"); done <"$work/idp.env"
    # The app trusts the throw-away certificate for its calls to the provider.
    env+=("REQUESTS_CA_BUNDLE=$work/cert.pem" "SSL_CERT_FILE=$work/cert.pem")
  fi

  # Mail, for projects that send it: the project's own catcher (make mail),
  # plain SMTP on loopback, which production allows there only.
  local mail_dir=""
  if [ -f "$dir/tests/dev_mail.py" ]; then
    local mail_port; mail_port=$(free_port)
    mail_dir=$work/$name-mail
    local started=0
    start_mail_catcher "$dir" "$venv/bin/python" "$mail_port" "$mail_dir" "$work/$name-mail.log" || started=$?
    app_pids+=("$MAIL_CATCHER_PID")
    [ "$started" = 0 ] || return 1
    env+=(MAIL_SERVER=127.0.0.1 "MAIL_PORT=$mail_port" MAIL_TLS=none MAIL_FROM=noreply@localhost)
  fi

  if [ -n "$choice_database_setting" ]; then
    (cd "$dir" && env "${env[@]}" "$venv/bin/flask" --app "$answer_package" db upgrade >"$work/$name-migrate.log" 2>&1) \
      || { cat "$work/$name-migrate.log"; echo "  FAIL flask db upgrade"; return 1; }
  fi
  (cd "$dir" && exec env "${env[@]}" "$venv/bin/gunicorn" --config gunicorn.conf.py --bind 127.0.0.1:443 \
    --certfile "$work/cert.pem" --keyfile "$work/key.pem" >"$work/$name-https.log" 2>&1) &
  app_pids+=($!); pids+=($!)
  (cd "$dir" && exec env "${env[@]}" "$venv/bin/gunicorn" --config gunicorn.conf.py --bind 127.0.0.1:80 \
    >"$work/$name-http.log" 2>&1) &
  app_pids+=($!); pids+=($!)
  wait_for https://localhost/healthz 200 || { tail -n 20 "$work/$name-https.log"; return 1; }
  wait_for http://localhost/healthz 200 || { tail -n 20 "$work/$name-http.log"; return 1; }
  wait_for https://localhost/readyz 200 || return 1
  echo "  ok   gunicorn serves https://localhost (TLS) and http://localhost in production mode"

  # Where the probe counts server-side sessions (anonymous visitors must write none).
  local store=()
  case " ${servers[*]} " in
    *" redis "*) store=(--redis-scan "redis-cli -p $REDIS_PORT -a $REDIS_PASSWORD --no-auth-warning -n 2 --scan --pattern '*:session:*'") ;;
    *" memcached "*) store=(--memcached "$MEMCACHED_SERVERS") ;;
  esac
  python3 "$repo/scripts/lib/live_probe.py" --cafile "$work/cert.pem" --login "$choice_auth_login" "${store[@]}" \
    ${mail_dir:+--mail-dir "$mail_dir"} || return 1

  if [ -n "$server" ]; then
    server_down "$server"
    wait_for https://localhost/readyz 503 || { server_up "$server"; return 1; }
    python3 "$repo/scripts/lib/live_probe.py" --cafile "$work/cert.pem" --login "$choice_auth_login" --down "$backend" \
      || { server_up "$server"; return 1; }
    server_up "$server" >/dev/null || return 1
    wait_for https://localhost/readyz 200 || return 1
    echo "  ok   /readyz: 503 with $server stopped, 200 again once it is back"
  else
    echo "  n/a  /readyz outage: no database or cache server in this project"
  fi

  # Next to node_modules, so that its import of playwright-core resolves.
  cp "$repo/scripts/lib/browser.mjs" "$TOOLS/browser.mjs"
  # With an API, a page at CLIENT_APP_URL adds a passkey and logs in with it
  # (before schemathesis spends each log-in route's allowance).
  MAIL_CATCHER_DIR=$mail_dir CLIENT_APP_URL=$client_app \
    node "$TOOLS/browser.mjs" https://localhost "$choice_auth_login" "$ARTIFACTS/$name.png" || return 1
  if [ "$choice_auth_login" = token ]; then
    # Before the abuse probes below spend this client's log-ins.
    python3 "$repo/scripts/lib/fuzz_api.py" --base https://localhost --cafile "$work/cert.pem" \
      --mail-dir "$mail_dir" --schemathesis "$TOOLS/schemathesis/bin/schemathesis" \
      --report "$ARTIFACTS/$name-fuzz" || return 1
  fi

  python3 "$repo/scripts/lib/live_probe.py" --cafile "$work/cert.pem" --login "$choice_auth_login" --abuse || return 1
  # The probes above sent a foreign Host header, and (with log-in) a form
  # without its CSRF token and log-ins until 429: the JSON log must say so.
  local events=(host_refused)
  case $choice_auth_login in
    form | provider) events+=(csrf_failed rate_limited) ;;
    token) events+=(rate_limited) ;;
  esac
  python3 "$repo/scripts/lib/logged_events.py" "$work/$name-https.log" "${events[@]}" || return 1

  # The scanner reaches http://localhost and https://localhost itself.
  local scan
  scan=$(NODE_EXTRA_CA_CERTS="$work/cert.pem" timeout 120 node \
    "$TOOLS/node_modules/@mdn/mdn-http-observatory/src/scan.js" localhost) || { echo "  FAIL observatory: $scan"; return 1; }
  python3 - "$scan" <<'PY' || return 1
import json, sys
result = json.loads(sys.argv[1])
scan = result["scan"]
print(f"  {'ok  ' if scan['grade'] == 'A+' else 'FAIL'} MDN HTTP Observatory: grade {scan['grade']}, score {scan['score']},"
      f" {scan['testsPassed']}/{scan['testsQuantity']} tests passed")
for name, test in sorted(result["tests"].items()):
    if test.get("scoreModifier", 0) != 0 or not test.get("pass"):
        print(f"       {test.get('scoreModifier', 0):+d} {name}: {test.get('result')}")
sys.exit(0 if scan["grade"] == "A+" else 1)
PY

  # The project's own dynamic scan, literally `make dast` (its rules, its
  # scanner from its own hash lock), against this project's real servers:
  # it starts its own production-mode gunicorn on another loopback port.
  # One scanner environment serves every project with the same lock.
  local dast_venv report dast_ok=1 dast_started=$SECONDS
  dast_venv=$work/dast-venvs/$(sha256sum "$dir/dast/requirements.lock" | cut -c1-16)
  (cd "$dir" && env "${server_env[@]}" make dast VENV="$venv" DAST_VENV="$dast_venv" \
    >"$work/$name-dast.log" 2>&1) || dast_ok=""
  for report in "$dir"/dast/report-*.json; do
    [ ! -e "$report" ] || cp "$report" "$ARTIFACTS/$name-dast-${report##*/report-}"
  done
  [ -n "$dast_ok" ] || { tail -n 30 "$work/$name-dast.log"; echo "  FAIL make dast"; return 1; }
  echo "  ok   make dast: $(grep -E '^[a-z]+: Wapiti' "$work/$name-dast.log" | sed 's/Wapiti [0-9.]*, //' | paste -sd ';'):" \
    "$(tail -n 1 "$work/$name-dast.log") ($((SECONDS - dast_started)) s)"

  local diagrams
  diagrams=$(grep -c '^```mermaid' "$dir/docs/threat-model.md")
  if ! (cd "$work" && timeout 180 "$TOOLS/node_modules/.bin/mmdc" -p "$work/puppeteer.json" \
      -i "$dir/docs/threat-model.md" -o "$work/$name-threat-model.md" >"$work/$name-mmdc.log" 2>&1); then
    tail -n 20 "$work/$name-mmdc.log"; echo "  FAIL mermaid-cli could not render docs/threat-model.md"; return 1
  fi
  local rendered
  rendered=$(find "$work" -maxdepth 1 -name "$name-threat-model-*.svg" | wc -l)
  [ "$rendered" = "$diagrams" ] || { echo "  FAIL mermaid-cli rendered $rendered of $diagrams diagrams"; return 1; }
  echo "  ok   docs/threat-model.md: $diagrams Mermaid diagrams rendered by mermaid-cli"

  # Last: it stops the gunicorns the checks above use.
  prove_proxy "$dir"
}

failed=()
while IFS=$'\t' read -r name flags _; do
  echo "== $name: $flags"
  app_pids=()
  start=$SECONDS
  if ! prove_live "$name" "$flags"; then failed+=("$name"); fi
  stop_app
  echo "   ($((SECONDS - start)) s)"
done <"$work/pairwise.tsv"

echo "== screenshots in $ARTIFACTS"
if [ ${#failed[@]} -gt 0 ]; then
  echo "live proof FAILED for: ${failed[*]}"
  exit 1
fi
echo "live proof passed for every combination"
