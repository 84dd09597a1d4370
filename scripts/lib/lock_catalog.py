"""Turn `uv pip compile --generate-hashes --annotation-style line` output into
the lock catalog rampart cuts each project's requirements lock from.

    python lock_catalog.py RESOLVED.txt PYTHON_VERSION [SET.in SET.txt]... > python-lock.json

Each package keeps its version, marker and hashes, plus the packages that
require it inverted into "requires" edges, so the generator can take the
transitive closure of any subset of the direct requirements.

Each SET.in (one requirement set a combination's lock resolves, from
tools/pyreqs) with its own resolution SET.txt (uv, --no-annotate, seeded with
RESOLVED.txt's pins) becomes a "resolutions" entry: the markers uv writes for
that set where they differ from the union's. The set's resolution must pin
exactly the closure the generator computes, at the union's versions, or this
fails: a project's lock would then differ from what `make lock` writes.
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


def closure(requirements: list[str], packages: dict[str, list]) -> set[str]:
    """What the generator pins for these requirements: their transitive closure."""
    needed: set[str] = set()
    todo = [normalize(re.split(r"[\[=]", r, maxsplit=1)[0]) for r in requirements]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo.extend(dep for variant in packages[name] for dep in variant["requires"])
    return needed


def set_resolution(set_file: str, resolved_file: str, packages: dict[str, list]) -> dict | None:
    with open(set_file, encoding="utf-8") as handle:
        requirements = sorted(line.strip() for line in handle if line.strip())
    with open(resolved_file, encoding="utf-8") as handle:
        entries = parse(handle)
    union = {f"{name}=={v['version']}": v.get("marker", "") for name, vs in packages.items() for v in vs}
    pinned = {f"{e['name']}=={e['version']}": e["marker"] for e in entries}
    expected = {
        f"{name}=={v['version']}" for name in closure(requirements, packages) for v in packages[name]
    }
    if set(pinned) != expected:
        print(
            f"{set_file}: uv pins {sorted(set(pinned) ^ expected)} unlike the catalog's closure",
            file=sys.stderr,
        )
        return None
    markers = {pin: marker for pin, marker in sorted(pinned.items()) if marker != union[pin]}
    resolution: dict = {"requirements": requirements}
    if markers:
        resolution["markers"] = markers
    return resolution


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
    resolutions = []
    pairs = sys.argv[3:]
    for set_file, set_resolved in zip(pairs[::2], pairs[1::2], strict=True):
        resolution = set_resolution(set_file, set_resolved, packages)
        if resolution is None:
            return 1
        resolutions.append(resolution)
    catalog = {
        "python": python,
        "generated_by": "scripts/lock-python.sh (do not edit by hand)",
        "packages": dict(sorted(packages.items())),
        "resolutions": sorted(resolutions, key=lambda r: r["requirements"]),
    }
    json.dump(catalog, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
