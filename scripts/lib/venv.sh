# Sourced by matrix.sh, e2e.sh and bench-app.sh: a virtualenv holding exactly
# a generated project's hash lock, then the project itself (editable).
# uv installs the lock: the same hashed pins, refused the same way when a hash
# or a dependency is missing, in about 2 s where pip takes about 40 (CPU spent
# unpacking and byte-compiling). It is the uv version the generated projects pin
# for `make lock`. scripts/newcomer.sh still runs `make install` (pip) literally.

# uv_bin: the uv the manifest pins (MATRIX: scripts/lib/common.sh's build_tools),
# installed once per version.
uv_bin() {
  local pin
  pin=$("$MATRIX" pin uv) || return 1
  local dir=${RAMPART_UV_DIR:-/tmp/rampart-uv}/${pin#uv==}
  if [ ! -x "$dir/bin/uv" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir" && "$dir/bin/pip" install --quiet "$pin" || return 1
  fi
  echo "$dir/bin/uv"
}

# venv_from_lock LOCK VENV: create VENV (if missing) with exactly LOCK's pins.
# Runs side by side (update.sh's two workers) take turns per VENV, so one
# never uses a virtualenv the other is still filling.
venv_from_lock() {
  local lock=$1 venv=$2 fd status=0
  mkdir -p "$(dirname "$venv")" || return 1
  exec {fd}>"$venv.lock" || return 1
  flock "$fd" || { exec {fd}>&-; return 1; }
  [ -x "$venv/bin/python" ] || fill_venv "$lock" "$venv" || status=$?
  exec {fd}>&-
  return "$status"
}

fill_venv() { # fill_venv LOCK VENV
  local lock=$1 venv=$2 uv
  uv=$(uv_bin) || return 1
  rm -rf "$venv"
  python3 -m venv "$venv" || return 1
  "$uv" pip install --quiet --require-hashes --python "$venv/bin/python" -r "$lock" || { rm -rf "$venv"; return 1; }
}

# install_project VENV DIR: the project, editable, without touching its pins;
# pip check then proves the environment is consistent.
# Side by side (matrix.sh's server slots), installs into one VENV take turns.
install_project() {
  local fd status=0
  exec {fd}>"$1.lock" || return 1
  flock "$fd" || { exec {fd}>&-; return 1; }
  "$1/bin/pip" install --quiet --no-deps --no-build-isolation -e "$2" && "$1/bin/pip" check >&2 || status=$?
  exec {fd}>&-
  return "$status"
}
