# Sourced by matrix.sh and e2e.sh: a cache of test suites that passed against
# real servers, keyed by the generated project's content. Both scripts prove
# the same pairwise subset, under the same project names, so e2e's run of the
# controls table's tests repeats what matrix.sh's server phase already ran on
# byte-identical files (.env's secrets aside); with the cache it does not.
PROOF_CACHE=${RAMPART_PROOF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rampart/proofs}

# proof_key DIR: a key for a freshly generated project: every file but .env
# (random secrets) and .rampart.yaml (the answers and the blueprint's version,
# which only rampart reads: a new version leaves a combination it did not
# change proved), plus the Python that runs the tests.
proof_key() {
  (cd "$1" && find . -type f ! -name .env ! -name .rampart.yaml ! -path './.git/*' | LC_ALL=C sort | xargs -r sha256sum
    python3 --version) | sha256sum | cut -c1-16
}

# proof_record KEY: the project's whole suite passed against its real servers, none skipped.
proof_record() { mkdir -p "$PROOF_CACHE" && touch "$PROOF_CACHE/suite-$1"; }

# proof_known KEY: that suite already passed for this content.
proof_known() { [ -e "$PROOF_CACHE/suite-$1" ]; }
