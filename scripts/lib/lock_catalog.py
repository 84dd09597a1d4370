"""Turn `uv pip compile --generate-hashes --annotation-style line` output into
the lock catalog rampart cuts each project's requirements lock from.

    python lock_catalog.py RESOLVED.txt PYTHON_VERSION > python-lock.json

Each package keeps its version, marker and hashes, plus the packages that
require it inverted into "requires" edges, so the generator can take the
transitive closure of any subset of the direct requirements.
"""

import json
import re
import sys

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)(?:\s*;\s*(.+?))?\s*\\?$")
HASH = re.compile(r"--hash=(\S+)")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(lines):
    entries, current = [], None
    for line in lines:
        text = line.strip()
        if not text or (text.startswith("#") and current is None):
            continue
        match = PIN.match(text)
        if match:
            current = {
                "name": normalize(match.group(1)),
                "version": match.group(2),
                "marker": (match.group(3) or "").strip(),
                "hashes": [],
                "via": [],
            }
            entries.append(current)
        elif current is not None and text.startswith("--hash="):
            current["hashes"].extend(HASH.findall(text))
        elif current is not None and text.startswith("# via"):
            for who in text[len("# via") :].split(","):
                who = who.strip()
                if who and not who.startswith("-r"):
                    current["via"].append(normalize(who))
    return entries


def main() -> int:
    resolved, python = sys.argv[1], sys.argv[2]
    with open(resolved, encoding="utf-8") as handle:
        entries = parse(handle)
    requires: dict[str, set[str]] = {}
    for entry in entries:
        for parent in entry["via"]:
            requires.setdefault(parent, set()).add(entry["name"])
    packages: dict[str, list] = {}
    for entry in entries:
        if not entry["hashes"]:
            print(f"{entry['name']}: no hashes in the resolution", file=sys.stderr)
            return 1
        variant = {"version": entry["version"]}
        if entry["marker"]:
            variant["marker"] = entry["marker"]
        variant["requires"] = sorted(requires.get(entry["name"], ()))
        variant["hashes"] = sorted(entry["hashes"])
        packages.setdefault(entry["name"], []).append(variant)
    catalog = {
        "python": python,
        "generated_by": "scripts/lock-python.sh (do not edit by hand)",
        "packages": dict(sorted(packages.items())),
    }
    json.dump(catalog, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
