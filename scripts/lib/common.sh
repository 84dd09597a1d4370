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
