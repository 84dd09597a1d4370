# Sourced by the proofs that report one line a claim (scripts/signing.sh,
# scripts/gitlab-image-jobs.sh): the claim counter, and the local OCI
# registry they sign in. Needs $work and wait_for_text (common.sh).
claims=0 failed=0

# claim DESCRIPTION COMMAND...: one line per claim; on failure, the last of
# the command's output (all of it in $work/out/N, N the claim's number).
claim() {
  local desc=$1 out; shift
  claims=$((claims + 1)) out=$work/out/$claims
  mkdir -p "$work/out"
  if "$@" >"$out" 2>&1; then
    printf '  ok     %s\n' "$desc"
  else
    printf '  FAILED %s\n' "$desc"
    sed 's/^/         | /' "$out" | tail -n 25
    failed=$((failed + 1))
  fi
}

# start_registry BINARY LOG: go-containerregistry's registry, in memory, on a
# port the kernel picks (it logs the port once it listens); sets registry_pid
# and registry_port.
start_registry() {
  "$1" -port 0 >"$2" 2>&1 &
  registry_pid=$!
  wait_for_text "$2" "serving on port" || { cat "$2"; return 1; }
  registry_port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$2")
}
