"""CI signs the digest it pushed (cosign keyless: Sigstore certifies the
pipeline's identity), on the default branch only and in a job of its own;
deploys check that signature against exactly that signer and issuer."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / ".github" / "workflows" / "ci.yml"
ISSUER = "https://token.actions.githubusercontent.com"
# The certificate subject CI's sign job gets: this workflow file at main.
SIGNER = re.compile(
    r"https://github\.com/[^/]+/[^/]+/\.github/workflows/ci\.yml@refs/heads/[^/]\S*"
)
PLACEHOLDER = "OWNER/REPO"
EXAMPLE_SIGNER = "https://github.com/acme/shop/.github/workflows/ci.yml@refs/heads/main"
VERIFY_SIGNATURE = ROOT / "deploy" / "verify-signature.sh"
SHELL = shutil.which("sh") or "/bin/sh"
DIGEST = "sha256:" + "0" * 64


def pipeline() -> dict[str, Any]:
    return yaml.safe_load(PIPELINE.read_text(encoding="utf-8"))


def test_ci_signs_the_pushed_digest_on_the_default_branch_only():
    jobs = pipeline()["jobs"]
    sign, push = jobs["sign"], jobs["push"]
    assert sign["needs"] == ["image", "push"]
    assert push["if"] in sign["if"] and "github.ref == 'refs/heads/main'" in sign["if"]
    # Sigstore's logs are public: a private repository signs when told to.
    assert "(!github.event.repository.private || vars.SIGN_ON_PRIVATE == 'true')" in sign["if"]
    # A newer push never cancels main's run between its push and its signature.
    cancelled = pipeline()["concurrency"]["cancel-in-progress"]
    assert cancelled == "${{ github.ref != 'refs/heads/main' }}"
    assert sign["permissions"] == {"id-token": "write", "packages": "write"}
    others = {name: job.get("permissions", {}) for name, job in jobs.items() if name != "sign"}
    assert not [name for name, p in others.items() if "id-token" in p and "packages" in p]
    installer, signing = sign["steps"][:2]
    assert installer["uses"].startswith("sigstore/cosign-installer@")
    # Older cosign has GHSA-fx35-mq7g-6g98.
    release = tuple(int(n) for n in installer["with"]["cosign-release"].lstrip("v").split("."))
    assert release >= (3, 1, 3)
    assert sign["env"]["IMAGE"] == push["env"]["IMAGE"]
    assert signing["env"]["DIGEST"] == "${{ needs.image.outputs.digest }}"
    script = signing["run"]
    assert 'cosign sign --yes "$IMAGE@$DIGEST"' in script
    assert f'--certificate-oidc-issuer {ISSUER} "$IMAGE@$DIGEST"' in script
    assert signing["env"]["SIGNER"] == "${{ github.server_url }}/${{ github.workflow_ref }}"
    # CI refuses to sign as another identity than the one deploys pin.
    pinned = "https://github.com/$GITHUB_REPOSITORY/.github/workflows/ci.yml@refs/heads/main"
    assert f'pinned="{pinned}"' in script and '[[ $SIGNER == "$pinned" ]]' in script
    assert SIGNER.fullmatch(pinned.replace("$GITHUB_REPOSITORY", "owner/repo"))


def script_setting(name: str) -> str:
    text = VERIFY_SIGNATURE.read_text(encoding="utf-8")
    [value] = re.findall(rf"^{name}='([^']*)'$", text, re.MULTILINE)
    return value


def verify_signature(*arguments: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    # The script is this project's own; the arguments are the tests' constants.
    environment = None if path is None else {"PATH": path}
    return subprocess.run(  # noqa: S603
        [SHELL, str(VERIFY_SIGNATURE), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )


def without_cosign(directory: Path) -> str:
    """A PATH with the commands the script uses, and no cosign."""
    for command in ("sed", "grep", "sort", "cat"):
        found = shutil.which(command)
        assert found, command
        (directory / command).symlink_to(found)
    return str(directory)


def test_the_deploy_checks_the_signer_ci_signs_as():
    identity = script_setting("SIGNER_IDENTITY")
    assert SIGNER.fullmatch(identity), identity
    assert script_setting("SIGNER_ISSUER") == ISSUER
    services = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))["services"]
    runs_the_app = [s for s in services.values() if "APP_IMAGE" in s.get("image", "")]
    assert runs_the_app == [s for s in services.values() if s.get("user") == "10001:10001"]


def test_the_deploy_script_refuses_what_it_cannot_check(tmp_path):
    for arguments, reason in [
        ((), "give one image by digest"),
        (("registry.example.com/app:1.0",), "names no digest"),
        (("registry.example.com/app@sha256:abc",), "is not a digest"),
        (("registry.example.com/app@" + DIGEST, "another"), "give one image by digest"),
    ]:
        refused = verify_signature(*arguments)
        assert refused.returncode == 2 and refused.stdout == "", arguments
        assert reason in refused.stderr, (arguments, refused.stderr)
    well_formed = "127.0.0.1:9/nothing@" + DIGEST
    # Well-formed, where nothing can check it: refused with nothing printed to
    # deploy, for the placeholder while SIGNER_IDENTITY is still one, then for
    # want of cosign.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    unchecked = verify_signature(well_formed, path=without_cosign(bin_dir))
    assert unchecked.returncode == 2 and unchecked.stdout == ""
    if PLACEHOLDER in script_setting("SIGNER_IDENTITY"):
        assert "set SIGNER_IDENTITY" in unchecked.stderr
    else:
        assert "cosign is not installed" in unchecked.stderr


def cosign_stand_in(directory: Path, output: str, status: int) -> Path:
    """A cosign that says it is 3.1.3, records what it is asked, prints OUTPUT
    and exits with STATUS: the script's side of its contract with cosign
    (scripts/signing.sh in rampart proves the real cosign's side)."""
    calls = directory / "calls"
    (directory / "output").write_text(output, encoding="utf-8")
    stand_in = directory / "cosign"
    stand_in.write_text(
        "#!/bin/sh\n"
        'if [ "$*" = "version --json" ]; then\n'
        '  printf \'{\\n  "gitVersion": "v3.1.3"\\n}\\n\'; exit 0\n'
        "fi\n"
        f'printf "%s\\n" "$@" > {calls}\n'
        f"cat {directory / 'output'}\n"
        f"exit {status}\n",
        encoding="utf-8",
    )
    stand_in.chmod(0o755)
    return calls


def test_the_deploy_script_asks_cosign_for_exactly_the_pinned_signer(tmp_path):
    edited = tmp_path / "verify-signature.sh"
    text = VERIFY_SIGNATURE.read_text(encoding="utf-8")
    pin = f"SIGNER_IDENTITY='{EXAMPLE_SIGNER}'"
    edited.write_text(re.sub(r"^SIGNER_IDENTITY='[^']*'$", pin, text, flags=re.MULTILINE))
    subject = "registry.example.com/app@" + DIGEST
    asked = ["verify"]
    signed = (
        '[{"critical":{"identity":{"docker-reference":"registry.example.com/app"},'
        f'"image":{{"docker-manifest-digest":"{DIGEST}"}},'
        '"type":"https://sigstore.dev/cosign/sign/v1"},"optional":{}}]'
    )
    # What cosign verify also prints for an attestation alone: no signature.
    attested_only = '[{"_type":"https://in-toto.io/Statement/v1","predicateType":"x"}]'
    cases = [(signed, 0, 0), ("", 1, 1), (attested_only, 0, 1)]
    for number, (output, cosign_status, status) in enumerate(cases):
        bin_dir = tmp_path / f"bin{number}"
        bin_dir.mkdir()
        calls = cosign_stand_in(bin_dir, output, cosign_status)
        path = without_cosign(bin_dir)
        result = subprocess.run(  # noqa: S603
            [SHELL, str(edited), subject],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": path},
        )
        assert result.returncode == status, (cosign_status, result.stderr)
        assert result.stdout == (subject + "\n" if status == 0 else "")
        issuer = ["--certificate-oidc-issuer", ISSUER]
        pinned = asked + ["--certificate-identity", EXAMPLE_SIGNER, *issuer, subject]
        assert calls.read_text(encoding="utf-8").splitlines() == pinned
