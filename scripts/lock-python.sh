#!/usr/bin/env bash
# Maintainer script: resolve the flask blueprint's Python requirements (the
# `python:` section of blueprints/flask.yaml) and every transitive dependency
# from PyPI, with hashes, into templates/flask/python-lock.json. Generation
# stays offline: rampart cuts each project's requirements lock from this file.
#
# Run it after changing a pin in the manifest, review the diff, then
# `go test ./generator -update` and scripts/matrix.sh.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/rampart-lock.XXXXXX")
trap 'rm -rf "$work"' EXIT
python_version=3.11

python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check uv==0.13.9 pyyaml==6.0.3
"$work/venv/bin/python" - "$repo/blueprints/flask.yaml" >"$work/requirements.in" <<'PY'
import sys
import yaml

python = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))["python"]
for entry in python["dependencies"] + python["dev_dependencies"]:
    print(entry["requirement"])
PY
# --universal: markers instead of this machine's platform, so the lock also
# installs on macOS, Windows and newer Pythons.
"$work/venv/bin/uv" pip compile --quiet --universal --python-version "$python_version" \
  --generate-hashes --no-header --annotation-style line \
  "$work/requirements.in" -o "$work/resolved.txt"
# Each requirement set a combination's lock resolves, resolved alone as the
# project's `make lock` does (seeded with the union's pins, as the project's
# lock seeds uv): where uv writes other markers for it, the catalog records
# them, so generated locks are byte for byte what `make lock` writes.
# tools/pyreqs reads the catalog: a pin new to the manifest is not in it yet,
# so write the union's catalog first (no sets) and ask again.
if ! (cd "$repo" && go run ./tools/pyreqs) >"$work/sets.txt" 2>"$work/pyreqs.err"; then
  echo "tools/pyreqs: $(tail -n 1 "$work/pyreqs.err"); writing the union's catalog first"
  "$work/venv/bin/python" "$repo/scripts/lib/lock_catalog.py" "$work/resolved.txt" "$python_version" \
    >"$repo/templates/flask/python-lock.json"
  (cd "$repo" && go run ./tools/pyreqs) >"$work/sets.txt"
fi
sets=()
i=0
while IFS= read -r line; do
  i=$((i + 1))
  tr ' ' '\n' <<<"$line" >"$work/set-$i.in"
  grep -v '^ *#' "$work/resolved.txt" >"$work/set-$i.txt"
  "$work/venv/bin/uv" pip compile --quiet --universal --python-version "$python_version" \
    --generate-hashes --no-header --no-annotate "$work/set-$i.in" -o "$work/set-$i.txt"
  sets+=("$work/set-$i.in" "$work/set-$i.txt")
done <"$work/sets.txt"
echo "resolved $i requirement sets, one per distinct lock a combination has"
"$work/venv/bin/python" "$repo/scripts/lib/lock_catalog.py" "$work/resolved.txt" "$python_version" "${sets[@]}" \
  >"$work/python-lock.json"
mv "$work/python-lock.json" "$repo/templates/flask/python-lock.json"
echo "wrote templates/flask/python-lock.json: $(grep -c '"version"' "$repo/templates/flask/python-lock.json") pinned distributions"
# The dynamic scanner's own lock (make dast), resolved alone with the flags of
# the project's make dast-lock, so that make dast-lock leaves it as it is.
dast=$repo/templates/flask/dast/dast
(cd "$dast" && "$work/venv/bin/uv" pip compile requirements.in --universal --python-version "$python_version" \
  --generate-hashes --no-annotate --custom-compile-command "make dast-lock" --quiet -o requirements.lock)
echo "wrote templates/flask/dast/dast/requirements.lock: $(grep -c '==' "$dast/requirements.lock") pinned distributions"
