"""Validates rendered manifests of custom kinds against their CRDs' schemas.

    check_crd_schemas.py CRD_DIR MANIFEST...

kubernetes-validate knows only the core kinds and skips the rest with a
warning. For every document whose group is defined by a CRD in CRD_DIR, this
checks that its version is served and validates it against that version's
openAPIV3Schema, as strictly as `kubectl apply --validate=strict`: a field the
schema does not name is an error (the API server would drop it silently).
The schemas' CEL rules (x-kubernetes-validations) are not evaluated here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with unknown fields refused wherever it lists its fields."""
    schema = dict(schema)
    for key in ("properties", "patternProperties"):
        if key in schema:
            schema[key] = {name: strict(sub) for name, sub in schema[key].items()}
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = strict(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [strict(sub) for sub in schema[key]]
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    if schema.get("nullable"):
        schema.pop("nullable")
        if "type" in schema:
            schema["type"] = [schema["type"], "null"]
    return schema


def load_crds(directory: Path) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(group, kind) -> {served version: strict schema}."""
    crds: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for path in sorted(directory.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            spec = doc["spec"]
            versions = crds.setdefault((spec["group"], spec["names"]["kind"]), {})
            for version in spec["versions"]:
                if version.get("served"):
                    schema = strict(version["schema"]["openAPIV3Schema"])
                    # metadata is the API server's to check.
                    schema["properties"]["metadata"] = {"type": "object"}
                    versions[version["name"]] = schema
    return crds


def problems(crds: dict[tuple[str, str], dict[str, dict[str, Any]]], manifest: Path) -> list[str]:
    found = []
    groups = {group for group, _ in crds}
    kinds = {kind for _, kind in crds}
    for doc in yaml.safe_load_all(manifest.read_text(encoding="utf-8")):
        if not doc:
            continue
        group, _, version = doc.get("apiVersion", "").rpartition("/")
        where = f"{manifest.name}: {doc.get('kind')} {doc.get('metadata', {}).get('name')}"
        if group not in groups:
            # A kind these CRDs define, under a mistyped group, would
            # otherwise pass: kubernetes-validate only warns of it.
            if doc.get("kind") in kinds:
                found.append(f"{where}: {group or 'the core group'} does not define {doc['kind']} (expected {', '.join(sorted(g for g, k in crds if k == doc['kind']))})")
            continue
        versions = crds.get((group, doc["kind"]))
        if versions is None:
            found.append(f"{where}: no CRD defines kind {doc['kind']} in {group}")
            continue
        if version not in versions:
            found.append(f"{where}: {group}/{version} is not served (served: {', '.join(sorted(versions))})")
            continue
        validator = jsonschema.Draft7Validator(versions[version])
        for error in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path)):
            path = ".".join(str(part) for part in error.absolute_path) or "(document)"
            found.append(f"{where}: {path}: {error.message}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    crds = load_crds(Path(argv[1]))
    if not crds:
        print(f"check_crd_schemas.py: no CustomResourceDefinition in {argv[1]}", file=sys.stderr)
        return 2
    found = [problem for manifest in argv[2:] for problem in problems(crds, Path(manifest))]
    for problem in found:
        print(problem)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
