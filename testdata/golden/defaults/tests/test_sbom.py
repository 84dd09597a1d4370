"""make sbom: the CycloneDX bill of materials lists exactly what
requirements.lock pins, with the same hashes, and is valid CycloneDX 1.6."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

ROOT = Path(__file__).resolve().parents[1]


def sbom_command(output: Path) -> tuple[list[str], dict[str, str]]:
    """The Makefile's sbom recipe, run by this interpreter, writing OUTPUT."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    [recipe] = re.findall(r"^sbom:\n\t(.+)$", makefile, re.MULTILINE)
    words = shlex.split(recipe)
    environment = dict(word.split("=", 1) for word in words if re.match(r"^[A-Z_]+=", word))
    command = [word for word in words if not re.match(r"^[A-Z_]+=", word)]
    assert command[0] == "$(BIN)/python"
    command[0] = sys.executable
    command[command.index("-o") + 1] = str(output)
    return command, environment


def locked() -> list[tuple[str, str, frozenset[str]]]:
    """(name, version, sha256 hashes) of every pin in requirements.lock, sorted:
    a name may be pinned twice, for different Python versions."""
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8").replace("\\\n", " ")
    pins = []
    for line in text.splitlines():
        found = re.match(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", line)
        if found:
            hashes = frozenset(re.findall(r"--hash=sha256:([0-9a-f]{64})", line))
            pins.append((normalized(found[1]), found[2], hashes))
    return sorted(pins, key=repr)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_sbom_lists_the_lock_with_its_hashes(tmp_path):
    output = tmp_path / "sbom.cdx.json"
    command, environment = sbom_command(output)
    # The command is the Makefile's own, run by this interpreter.
    subprocess.run(  # noqa: S603
        command, cwd=ROOT, env={"PATH": "/usr/bin:/bin", **environment}, check=True
    )
    text = output.read_text(encoding="utf-8")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    root = bom["metadata"]["component"]
    assert (root["name"], root["version"]) == (project["name"], project["version"])
    # Reproducible: nothing in it changes from one run to the next.
    assert "serialNumber" not in bom and "timestamp" not in bom["metadata"]
    listed = []
    for component in bom["components"]:
        hashes = {
            digest["content"]
            for reference in component.get("externalReferences", [])
            if reference["type"] == "distribution"
            for digest in reference.get("hashes", [])
            if digest["alg"] == "SHA-256"
        }
        listed.append((normalized(component["name"]), component["version"], frozenset(hashes)))
    pins = locked()
    assert pins
    # Every pin once, none missing, none added, each with its own hashes.
    assert sorted(listed, key=repr) == pins
