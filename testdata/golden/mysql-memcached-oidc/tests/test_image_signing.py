"""CI signs the digest it pushed (cosign keyless: Sigstore certifies the
pipeline's identity), on the default branch only and in a job of its own;
deploys check that signature against exactly that signer and issuer."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PIPELINE = ROOT / ".gitlab-ci.yml"
ISSUER = "https://gitlab.com"
# The certificate subject image-sign gets: this project's pipeline file at
# the default branch (GitLab writes the project path, then //, then the file).
SIGNER = re.compile(r"https://gitlab\.com/[^/]\S*[^/]//\.gitlab-ci\.yml@refs/heads/[^/]\S*")
PLACEHOLDER = "GROUP/PROJECT"
EXAMPLE_SIGNER = "https://gitlab.com/acme/shop//.gitlab-ci.yml@refs/heads/main"
KUSTOMIZE = ROOT / "deploy" / "kubernetes"
POLICY = KUSTOMIZE / "components" / "signed-images" / "policy.yaml"
DIGEST = "sha256:" + "0" * 64


def pipeline() -> dict[str, Any]:
    return yaml.safe_load(PIPELINE.read_text(encoding="utf-8"))


def test_ci_signs_the_pushed_digest_on_the_default_branch_only():
    jobs = pipeline()
    sign, push = jobs["image-sign"], jobs["image-push"]
    assert push["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    [rule] = sign["rules"]
    assert rule["if"].startswith("$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && ")
    # Public Sigstore takes gitlab.com's tokens, and its logs are public.
    assert '$CI_SERVER_HOST == "gitlab.com"' in rule["if"]
    assert '($CI_PROJECT_VISIBILITY == "public" || $SIGN_ON_PRIVATE == "true")' in rule["if"]
    # A newer pipeline never stops one between its push and its signature.
    assert push["interruptible"] is False and sign["interruptible"] is False
    assert sign["needs"] == ["image-scan", "image-push"]
    assert sign["id_tokens"] == {"SIGSTORE_ID_TOKEN": {"aud": "sigstore"}}
    holders = [name for name, job in jobs.items() if isinstance(job, dict) and "id_tokens" in job]
    assert holders == ["image-sign"]
    script = sign["script"]
    # The digest image-scan passed, and cosign with GHSA-fx35-mq7g-6g98 fixed.
    assert "scanned=$(cat scanned.digest)" in script
    [install] = [line for line in script if "go install github.com/sigstore/cosign/" in line]
    release = tuple(int(n) for n in install.rsplit("@v", 1)[1].split("."))
    assert release >= (3, 1, 3)
    assert 'cosign sign --yes "$CI_REGISTRY_IMAGE@$scanned"' in script
    [verify] = [line for line in script if line.startswith("cosign verify ")]
    assert '--certificate-oidc-issuer "$CI_SERVER_URL"' in verify
    signer = "$CI_SERVER_URL/$CI_PROJECT_PATH//.gitlab-ci.yml@refs/heads/$CI_COMMIT_BRANCH"
    assert f'signer="{signer}"' in script and '--certificate-identity "$signer"' in verify
    example = {"$CI_SERVER_URL": "https://gitlab.com", "$CI_PROJECT_PATH": "group/project"}
    assert SIGNER.fullmatch(
        signer.replace("$CI_SERVER_URL", example["$CI_SERVER_URL"])
        .replace("$CI_PROJECT_PATH", example["$CI_PROJECT_PATH"])
        .replace("$CI_COMMIT_BRANCH", "main")
    )


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
