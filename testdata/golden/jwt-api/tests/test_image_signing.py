"""CI signs the digest it pushed (cosign keyless: Sigstore certifies the
pipeline's identity), on the default branch only and in a job of its own;
deploys check that signature against exactly that signer and issuer."""

from __future__ import annotations

import re
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
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
POLICY = KUSTOMIZE / "components" / "signed-images" / "policy.yaml"
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


def policy() -> dict[str, Any]:
    return yaml.safe_load(POLICY.read_text(encoding="utf-8"))


def test_the_deploy_checks_the_signer_ci_signs_as():
    [attestor] = policy()["spec"]["attestors"]
    # Exact subject and issuer: no regular expression, which a look-alike
    # repository or another branch could match.
    [identity] = attestor["cosign"]["keyless"]["identities"]
    assert set(identity) == {"subject", "issuer"}
    assert SIGNER.fullmatch(identity["subject"]), identity["subject"]
    assert identity["issuer"] == ISSUER
    expressions = " ".join(v["expression"] for v in policy()["spec"]["validations"])
    check = f"verifyImageSignatures(image, [attestors.{attestor['name']}])).all(n, n > 0)"
    for images in ("containers", "initContainers"):
        assert f"images.{images}.map(image, {check}" in expressions


def test_the_admission_policy_refuses_what_it_cannot_check():
    spec = policy()["spec"]
    assert policy()["kind"] == "NamespacedImageValidatingPolicy"
    assert spec["validationActions"] == ["Deny"] and spec["failurePolicy"] == "Fail"
    assert spec["matchImageReferences"] == [{"glob": "*"}]
    checked = {"mutateDigest": True, "verifyDigest": True, "required": True}
    assert spec["validationConfigurations"] == checked
    [rule] = spec["matchConstraints"]["resourceRules"]
    assert rule["resources"] == ["pods"] and set(rule["operations"]) == {"CREATE", "UPDATE"}


def test_an_overlay_that_checks_signatures_names_your_pipeline():
    component = "../../components/signed-images"
    for overlay in sorted((KUSTOMIZE / "overlays").glob("*/kustomization.yaml")):
        if component in yaml.safe_load(overlay.read_text(encoding="utf-8")).get("components", []):
            [attestor] = policy()["spec"]["attestors"]
            [identity] = attestor["cosign"]["keyless"]["identities"]
            assert PLACEHOLDER not in identity["subject"], f"{overlay}: set the signer in {POLICY}"
