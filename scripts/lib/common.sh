# Sourced by every proof script (through scripts/services.sh or directly):
# root, Debian packages, secrets, and the blueprint's facts from its manifest
# (tools/matrix), so that no script re-encodes a choice.

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

# install_commands CMD[:PACKAGE]...: installs from Debian the package of each
# missing command (PACKAGE defaults to CMD; CMD may be a path). Sets
# INSTALLED to the packages it installed.
install_commands() {
  INSTALLED=()
  local spec
  for spec in "$@"; do
    command -v "${spec%%:*}" >/dev/null || INSTALLED+=("${spec#*:}")
  done
  [ ${#INSTALLED[@]} -gt 0 ] || return 0
  echo "installing ${INSTALLED[*]} from Debian packages"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${INSTALLED[@]}" >/dev/null
}

# random_hex [BYTES]: a fresh secret, hex-encoded (32 bytes unless told).
random_hex() { head -c "${1:-32}" /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# build_tools DIR: rampart and tools/matrix from this tree, into DIR; sets
# RAMPART and MATRIX.
build_tools() {
  local root; root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  (cd "$root" && go build -o "$1/rampart" . && go build -o "$1/matrix" ./tools/matrix) || return 1
  RAMPART=$1/rampart MATRIX=$1/matrix
}

# read_facts DIR: the generated project's answers and its choices'
# attributes, as shell variables (answer_QUESTION, choice_QUESTION_ATTRIBUTE).
read_facts() {
  local facts
  facts=$("$MATRIX" facts "$1/.rampart.yaml") || return 1
  eval "$facts"
}

# free_port: a port nothing listens on, below Linux's ephemeral range
# (32768-60999): polling an ephemeral port before the app listens can connect
# the client to itself.
free_port() {
  python3 -c '
import random, socket
for port in random.sample(range(20000, 32000), 200):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(port)
        break
else:
    raise SystemExit("no free port in 20000-32000")'
}

# wait_for_text LOG TEXT: wait (at most 10 s) until LOG holds TEXT.
wait_for_text() {
  local _
  for _ in $(seq 50); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.2; done
  grep -q "$2" "$1" 2>/dev/null
}

# start_mail_catcher DIR PYTHON PORT FOLDER LOG: the generated project in DIR's
# own mail catcher (tests/dev_mail.py, what make mail runs), in the
# background on 127.0.0.1:PORT, saving mail in FOLDER and logging to LOG. Its
# pid goes into the caller's pids array (and MAIL_CATCHER_PID); returns once
# it listens, or fails with its log.
start_mail_catcher() {
  (cd "$1" && exec env APP_ENV=development MAIL_SERVER=127.0.0.1 MAIL_PORT="$3" \
    MAIL_CATCHER_DIR="$4" "$2" -m tests.dev_mail >"$5" 2>&1) &
  MAIL_CATCHER_PID=$!
  pids+=("$MAIL_CATCHER_PID")
  wait_for_text "$5" "Catching mail" || { cat "$5"; echo "  FAIL the mail catcher did not start"; return 1; }
}
