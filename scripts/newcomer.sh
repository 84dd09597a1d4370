#!/usr/bin/env bash
# A newcomer's run, literally. For one project per --auth choice (every other
# answer left at its default, so development runs on SQLite with no server),
# generate it as rampart's README says (go run . new NAME --yes), then follow
# the generated README word for word, in its order, in development mode:
#   - "Run it": each command as written (make install, make migrate, make idp
#     for OIDC, make mail for session and jwt, make dev); the long-running ones are
#     left running, make dev on
#     a free loopback port (PORT=...; the README's 127.0.0.1:5000 becomes it);
#   - real requests to each page, then headless Chromium registers and logs in
#     (session) or signs in at the development provider's page (oidc), and logs
#     out (session: then follows a password reset link from make mail's
#     folder), failing on any CSP violation or console error (none: the public
#     page); for jwt, the README's "Use the API" block runs as written and must
#     confirm the address with the mailed link, read the account back, revoke
#     its tokens and reset the password with a mailed link, then Chromium, on a
#     page at the README's development CLIENT_APP_URL, adds a passkey through
#     the API and logs in with it;
#   - "Test it": make test and make lint, as written;
#   - make lock and make dast-lock must leave the three locks byte for byte
#     as they were.
# Every command runs in a clean environment (PATH, HOME, a UTF-8 locale and
# the machine's network settings), as on a fresh machine. Needs the Go
# toolchain, PyPI, and Debian's chromium (installed if missing).
# The --auth values come from the manifest (tools/matrix values auth), and each
# project's log-in kind from its choice's login attribute; AUTHS="session jwt"
# picks the projects; KEEP=1 keeps them.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rampart-newcomer.XXXXXX)
ARTIFACTS=${ARTIFACTS:-$repo/.e2e-artifacts}
TOOLS=${E2E_TOOLS:-/tmp/rampart-e2e-tools}
mkdir -p "$ARTIFACTS"

# shellcheck source=scripts/lib/common.sh
. "$repo/scripts/lib/common.sh"

# Process groups of the servers a README started; stopped on exit.
groups=()
stop_servers() {
  local group
  for group in "${groups[@]}"; do kill -TERM -- "-$group" 2>/dev/null || true; done
  for group in "${groups[@]}"; do
    for _ in $(seq 50); do kill -0 -- "-$group" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$group" 2>/dev/null || true
  done
  groups=()
  # The mail catcher's port is free again (see follow_readme).
  if [ -n "${mail_port_lock:-}" ]; then exec {mail_port_lock}>&-; mail_port_lock=""; fi
}
cleanup() {
  stop_servers
  [ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
build_tools "$work"
AUTHS=${AUTHS:-$("$MATRIX" values auth | paste -sd' ' -)}

echo "== tools"
install_commands chromium
mkdir -p "$TOOLS"
if [ ! -d "$TOOLS/node_modules/playwright-core" ]; then
  (cd "$TOOLS" && { [ -f package.json ] || echo '{"private": true}' >package.json; } &&
    npm install --ignore-scripts --no-audit --no-fund --loglevel=error playwright-core@1.65.1 >/dev/null)
fi
cp "$repo/scripts/lib/browser.mjs" "$TOOLS/browser.mjs"
echo "$(chromium --version 2>/dev/null), node $(node --version), $(python3 --version)"

# What a fresh machine has: no APP_ENV, DATABASE_URL or other leftovers. The
# machine's own network settings (proxies, CA bundles, pip and uv settings)
# are kept: they belong to the machine, not to the project.
fresh=(env -i "PATH=$PATH" "HOME=$HOME" LANG=C.UTF-8 TERM=dumb)
while IFS= read -r setting; do fresh+=("$setting"); done < <(env |
  grep -E '^((HTTPS?|NO|ALL)_PROXY|(https?|no|all)_proxy|SSL_CERT_(FILE|DIR)|REQUESTS_CA_BUNDLE|CURL_CA_BUNDLE|PIP_[A-Z_]+|UV_[A-Z_]+)=' || true)

# wait_for URL STATUS: poll (at most 150 times, 0.2 s apart) until URL answers STATUS.
wait_for() {
  local code=""
  for _ in $(seq 150); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true)
    [ "$code" = "$2" ] && return 0
    sleep 0.2
  done
  echo "  FAIL $1 answered $code, want $2 (after 30 s)"
  return 1
}

# expect METHOD URL STATUS: one real request.
expect() {
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$1" "$2" || true)
  if [ "$code" != "$3" ]; then echo "  FAIL $1 $2 answered $code, want $3"; return 1; fi
  echo "  ok   $1 ${2#http://127.0.0.1:*/} -> $code"
}

# run_line DIR LOG COMMAND: one README command, in the foreground, as written.
run_line() {
  local dir=$1 log=$2 line=$3 started=$SECONDS
  if ! (cd "$dir" && "${fresh[@]}" PORT="$port" bash -c "$line") >"$log" 2>&1; then
    tail -n 30 "$log"; echo "  FAIL $line"; return 1
  fi
  echo "  ok   ${line%%#*}($((SECONDS - started)) s)"
}

# start_line DIR LOG COMMAND: one long-running README command, in its own process group.
start_line() {
  local dir=$1 log=$2 line=$3
  (cd "$dir" && exec setsid "${fresh[@]}" PORT="$port" bash -c "exec $line") >"$log" 2>&1 &
  groups+=($!)
}

follow_readme() { # follow_readme AUTH
  local auth=$1 name=newcomer-$1 dir=$work/newcomer-$1 line base
  port=$(free_port)
  (cd "$repo" && go run . new "$name" --auth "$auth" --yes --output "$dir") >"$work/$name-new.log" 2>&1 ||
    { cat "$work/$name-new.log"; echo "  FAIL go run . new $name --auth $auth --yes"; return 1; }
  echo "  ok   go run . new $name --auth $auth --yes"
  # The host the README opens (localhost where passkeys need a name), on this run's port.
  base=$(grep -o -m 1 'http://[a-z0-9.]*:5000 (make dev' "$dir/README.md" | cut -d ' ' -f 1)
  [ -n "$base" ] || { echo "  FAIL the README names no address for make dev"; return 1; }
  base=${base%:5000}:$port
  read_facts "$dir" || return 1
  local pkg=$answer_package login=$choice_auth_login

  # "Run it", in order.
  local run_it
  run_it=$(python3 "$repo/scripts/lib/readme_block.py" "$dir/README.md" "Run it") || return 1
  while IFS= read -r line; do
    [ -n "${line// /}" ] || continue
    case $line in
      "make dev"*)
        start_line "$dir" "$work/$name-dev.log" "$line"
        wait_for "$base/healthz" 200 || { tail -n 30 "$work/$name-dev.log"; return 1; }
        echo "  ok   ${line%%#*}(serving on $base)" ;;
      "make mail"*)
        # Every project's catcher listens on the README's 127.0.0.1:1025: two
        # runs at a time take turns, until stop_servers lets go.
        exec {mail_port_lock}>"$work/mail-port.lock"
        flock "$mail_port_lock"
        start_line "$dir" "$work/$name-mail.log" "$line"
        wait_for_text "$work/$name-mail.log" "Catching mail" || { cat "$work/$name-mail.log"; echo "  FAIL $line did not start"; return 1; }
        echo "  ok   ${line%%#*}(catching mail in src/instance/mail)" ;;
      "make idp"*)
        local issuer
        issuer=$(sed -n 's/^OIDC_ISSUER=//p' "$dir/.env")
        start_line "$dir" "$work/$name-idp.log" "$line"
        wait_for "$issuer/.well-known/openid-configuration" 200 || { tail -n 30 "$work/$name-idp.log"; return 1; }
        echo "  ok   ${line%%#*}(serving on $issuer)" ;;
      *)
        run_line "$dir" "$work/$name-$(echo "$line" | awk '{print $2}').log" "$line" || return 1
        if [[ $line == "make migrate"* ]] && [ ! -s "$dir/src/instance/$pkg.sqlite3" ]; then
          echo "  FAIL make migrate did not create src/instance/$pkg.sqlite3, as the README says"; return 1
        fi ;;
    esac
  done <<<"$run_it"

  # Every page, for real.
  expect GET "$base/" 200 && expect GET "$base/healthz" 200 && expect GET "$base/readyz" 200 &&
    expect GET "$base/static/style.css" 200 && expect GET "$base/no-such-page" 404 || return 1
  case $login in
    form) expect GET "$base/auth/register" 200 && expect GET "$base/auth/login" 200 &&
      expect GET "$base/account" 302 || return 1 ;;
    provider) expect GET "$base/auth/login" 302 && expect GET "$base/account" 302 || return 1 ;;
    token) expect GET "$base/api/v1/me" 401 || return 1 ;;
    none) expect GET "$base/account" 404 || return 1 ;;
    *) echo "  FAIL --auth $auth logs in by '$login', which this script does not know; teach follow_readme its pages"
      return 1 ;;
  esac

  if [ "$login" = token ]; then
    # "Use the API" as written, on the port make dev got.
    local api
    api=$(python3 "$repo/scripts/lib/readme_block.py" "$dir/README.md" "Use the API") || return 1
    if ! (cd "$dir" && "${fresh[@]}" bash -e -c "set -o pipefail; ${api//127.0.0.1:5000/127.0.0.1:$port}") >"$work/$name-api.log" 2>&1; then
      cat "$work/$name-api.log"; echo "  FAIL the README's API commands"; return 1
    fi
    # The address confirmed with the mailed link, then the account read back with the access token.
    if ! grep -q 'Your address is confirmed' "$work/$name-api.log" ||
      ! grep -Eq '^OpenAPI 3\.1\.0 [0-9]+ paths$' "$work/$name-api.log" ||
      ! grep -q 'Your password has been changed' "$work/$name-api.log" ||
      [ "$(grep -c '^recovery codes: [0-9a-z-]*' "$work/$name-api.log")" != 1 ] ||
      [ "$(grep -o '"access_token"' "$work/$name-api.log" | wc -l)" != 1 ] ||
      [ "$(tr -d ' \n' <"$work/$name-api.log" | grep -o '"email":"ada@example.com"' | wc -l)" != 1 ] ||
      [ "$(tr -d ' \n' <"$work/$name-api.log" | grep -o '"title":"Firstnote"' | wc -l)" != 2 ]; then
      cat "$work/$name-api.log"; echo "  FAIL the README's API commands did not read the OpenAPI document, confirm the address, read the account back and write and list a note, turn on two-factor log-in and log in with a code"; return 1
    fi
    echo "  ok   the README's API commands: read the OpenAPI document, registered, confirmed with the mailed link, got tokens, read /me, wrote and listed a note, refreshed, revoked, reset the password by mail, logged in with the new one, turned on two-factor log-in and logged in with a code"
    # Passkeys need a browser: a page at the client application's address
    # (the README gives the development one) adds one and logs in with it.
    local client_app
    client_app=$(grep -o 'CLIENT_APP_URL` (development: http://[a-z0-9.:-]*' "$dir/README.md" | head -n 1 | sed 's/.*development: //' || true)
    [ -n "$client_app" ] || { echo "  FAIL the README does not give CLIENT_APP_URL's development address"; return 1; }
    MAIL_CATCHER_DIR=$dir/src/instance/mail CLIENT_APP_URL=$client_app \
      node "$TOOLS/browser.mjs" "$base" "$login" "$ARTIFACTS/$name-development.png" || return 1
  else
    # With the catcher running, the browser follows a mailed reset link too.
    local mail_dir=""
    [ ! -f "$work/$name-mail.log" ] || mail_dir=$dir/src/instance/mail
    # The README's command for the first admin, typed as written (the password
    # at its prompt), and the same without --admin for a member the admin disables.
    local admin_env=() create
    create=$(grep -o '\.venv/bin/flask --app [a-z0-9_]* users create --admin you@example\.com' "$dir/README.md" | head -n 1 || true)
    if [ -n "$create" ]; then
      local secret="correct horse battery staple" account
      for account in "${create/you@example.com/admin@example.com}" "${create/ --admin you@example.com/ bob@example.com}"; do
        if ! (cd "$dir" && printf '%s\n%s\n' "$secret" "$secret" | "${fresh[@]}" bash -c "$account") >"$work/$name-users.log" 2>&1; then
          cat "$work/$name-users.log"; echo "  FAIL $account"; return 1
        fi
        echo "  ok   $account  ($(grep -m1 "^created" "$work/$name-users.log"))"
      done
      admin_env=(ADMIN_EMAIL=admin@example.com MEMBER_EMAIL=bob@example.com "ADMIN_PASSWORD=$secret")
    fi
    # With roles from the provider, the README names the development provider's admin group.
    local group
    group=$(grep -o 'page type `[a-z0-9-]*` under Groups' "$dir/README.md" | head -n 1 | cut -d'`' -f2 || true)
    [ -z "$group" ] || admin_env+=("PROVIDER_ADMIN_GROUP=$group")
    # The address change and deletion too: nothing here has spent the log-in limit before.
    env "${admin_env[@]}" MAIL_CATCHER_DIR="$mail_dir" ACCOUNT_CHANGES=1 node "$TOOLS/browser.mjs" "$base" "$login" "$ARTIFACTS/$name-development.png" || return 1
  fi

  # The development server logs readable lines, and no crash happened.
  if grep -q '^{"time"' "$work/$name-dev.log"; then
    echo "  FAIL make dev logs JSON; development logs are readable lines"; return 1
  fi
  if grep -q 'Traceback' "$work/$name-dev.log" "$work/$name-idp.log" "$work/$name-mail.log" 2>/dev/null; then
    tail -n 40 "$work/$name-dev.log"; echo "  FAIL a traceback in the development server's log"; return 1
  fi
  stop_servers

  # "Test it", in order.
  local test_it
  test_it=$(python3 "$repo/scripts/lib/readme_block.py" "$dir/README.md" "Test it") || return 1
  while IFS= read -r line; do
    [ -n "${line// /}" ] || continue
    run_line "$dir" "$work/$name-$(echo "$line" | awk '{print $2}').log" "$line" || return 1
  done <<<"$test_it"

  # make lock and make dast-lock with nothing changed leave the locks as they are.
  local before after locks="requirements.lock requirements-dev.lock dast/requirements.lock"
  before=$(cd "$dir" && sha256sum $locks)
  run_line "$dir" "$work/$name-lock.log" "make lock" || return 1
  run_line "$dir" "$work/$name-dast-lock.log" "make dast-lock" || return 1
  after=$(cd "$dir" && sha256sum $locks)
  if [ "$before" != "$after" ]; then
    (cd "$dir" && diff <(echo "$before") <(echo "$after")) || true
    echo "  FAIL make lock or make dast-lock changed a lock with nothing changed"; return 1
  fi
  echo "  ok   make lock and make dast-lock left the three locks byte for byte as they were"
}

# run_one AUTH: one newcomer's whole run; its own ports, servers and project.
run_one() {
  local auth=$1 started=$SECONDS
  echo "-- --auth $auth (every other answer default)"
  if follow_readme "$auth"; then
    echo "ok   $auth ($((SECONDS - started)) s)"
  else
    stop_servers
    echo "FAIL $auth ($((SECONDS - started)) s)"
    return 1
  fi
}

# Two runs at a time (NEWCOMER_JOBS): each is mostly one busy process (pip,
# pytest), and the machine has two cores. Each run's output is printed whole,
# in order, when it ends.
echo "== newcomer runs"
failed=()
for auth in $AUTHS; do
  while [ "$(jobs -rp | wc -l)" -ge "${NEWCOMER_JOBS:-2}" ]; do wait -n || true; done
  ( status=0; run_one "$auth" || status=$?; echo "$status" >"$work/run-$auth.status" ) >"$work/run-$auth.out" 2>&1 &
done
wait
for auth in $AUTHS; do
  cat "$work/run-$auth.out"
  [ "$(cat "$work/run-$auth.status" 2>/dev/null)" = 0 ] || failed+=("$auth")
done
count=$(wc -w <<<"$AUTHS")
echo "newcomer runs: $((count - ${#failed[@]})) of $count followed their README to the end"
[ ${#failed[@]} -eq 0 ] || { echo "failed: ${failed[*]}"; exit 1; }
