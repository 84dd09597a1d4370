#!/usr/bin/env bash
# How fast `rampart new` is, as a whole process: hyperfine (warm-up, then
# RUNS runs, a fresh directory each run) over the default answers, the
# smallest and the largest project and those between, peak memory from
# /usr/bin/time -v, files and bytes written, and a straight-line fit of time
# against bytes (cost per KB and per file). Then the Go benchmarks of load,
# render and write, with allocations. Installs hyperfine and GNU time from
# Debian when missing.
#
#   bash scripts/bench-generate.sh                  # print the tables
#   UPDATE_DOCS=1 bash scripts/bench-generate.sh    # also write them into docs/performance.md
#
# Settings: RUNS (30), WARMUP (5), BENCHTIME for go test -benchtime (1s),
# STRICT=1 (exit 1 when a target is missed), OUT (default .bench/).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-5}
BENCHTIME=${BENCHTIME:-1s}
OUT=${OUT:-$repo/.bench}
work=$(mktemp -d /tmp/rampart-bench-generate.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=$OUT/generate
rm -rf "$results"
mkdir -p "$results"

# shellcheck source=scripts/lib/common.sh
. "$repo/scripts/lib/common.sh"
install_commands hyperfine /usr/bin/time:time
echo "== $(hyperfine --version), $(go version | cut -d' ' -f3-)"

# A release-like binary: trimmed paths, no debug information.
(cd "$repo" && go build -trimpath -ldflags='-s -w' -o "$work/rampart" .)
rampart=$work/rampart

echo "== sizes of every allowed combination (dry runs)"
(cd "$repo" && go run ./tools/matrix all) | awk -F'\t' '$3 == ""' >"$work/combinations.tsv"
while IFS=$'\t' read -r name flags _; do
  read -r -a args <<<"$flags"
  (cd "$work" && "$rampart" new sized --yes --dry-run --json "${args[@]}") |
    python3 -c 'import json, sys
d = json.load(sys.stdin)
print(sys.argv[1], sum(f["size"] for f in d["files"]), len(d["files"]), sys.argv[2], sep="\t")' "$name" "$flags"
done <"$work/combinations.tsv" | sort -t$'\t' -k2,2n >"$work/sizes.tsv"
count=$(wc -l <"$work/sizes.tsv")
echo "$count combinations, $(head -n 1 "$work/sizes.tsv" | cut -f2) to $(tail -n 1 "$work/sizes.tsv" | cut -f2) bytes"

# The smallest, the quartiles and the largest by bytes (the defaults follow).
pick() { sed -n "${1}p" "$work/sizes.tsv"; }
{
  pick 1
  pick $(((count + 3) / 4))
  pick $(((count + 1) / 2))
  pick $(((3 * count + 3) / 4))
  pick "$count"
} | awk -F'\t' '!seen[$1]++' >"$work/chosen.tsv"

echo "== whole process: hyperfine, $WARMUP warm-up and $RUNS measured runs each, a fresh directory every run"
run_case() { # run_case LABEL ARGS...
  local label=$1; shift
  (cd "$work" && hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --prepare "rm -rf $work/p" \
    --export-json "$results/hyperfine-$label.json" --style none "$rampart new p --yes $*" >/dev/null)
  local peak=0 kb
  for _ in 1 2 3 4 5; do
    rm -rf "$work/p"
    kb=$(cd "$work" && /usr/bin/time -f %M "$rampart" new p --yes "$@" 2>&1 >/dev/null | tail -n 1)
    [ "$kb" -gt "$peak" ] && peak=$kb
  done
  local files bytes
  files=$(find "$work/p" -type f -not -path "$work/p/.git/*" | wc -l)
  bytes=$(find "$work/p" -type f -not -path "$work/p/.git/*" -printf '%s\n' | awk '{s += $1} END {print s}')
  printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$files" "$bytes" "$peak" "$*" >>"$results/cases.tsv"
  rm -rf "$work/p"
}
while IFS=$'\t' read -r name _ _ flags; do
  read -r -a args <<<"$flags"
  run_case "$name" --no-git "${args[@]}"
done <"$work/chosen.tsv"
run_case defaults --no-git
largest=$(tail -n 1 "$work/sizes.tsv")
read -r -a largest_args <<<"$(cut -f4 <<<"$largest")"
if command -v git >/dev/null; then
  run_case "$(cut -f1 <<<"$largest")+git" "${largest_args[@]}"
  run_case "defaults+git"
fi

echo "== go test -bench (in process; -benchmem)"
(cd "$repo" && go test -run '^$' -bench . -benchmem -benchtime "$BENCHTIME" ./generator/) | tee "$results/go-bench.txt" |
  grep -E '^(Benchmark|cpu:)'

python3 "$repo/scripts/lib/bench_generate_report.py" --results "$results" --largest "$(cut -f1 <<<"$largest")" \
  --markdown "$OUT/generate.md" ${STRICT:+--strict}
if [ -n "${UPDATE_DOCS:-}" ]; then
  python3 "$repo/scripts/lib/splice_doc.py" "$repo/docs/performance.md" bench-generate "$OUT/generate.md"
  echo "docs/performance.md updated"
fi
