"""CI signs the digest it pushed (cosign keyless: Sigstore certifies the
pipeline's identity), on the default branch only and in a job of its own;
deploys check that signature against exactly that signer and issuer."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
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


def test_ci_builds_with_rootless_buildkit_pinned_by_digest(tmp_path: Path):
    build = pipeline()["image-build"]
    # kaniko is archived upstream; BuildKit rootless needs no privileges.
    name, _, digest = build["image"]["name"].partition("@")
    assert name.startswith("moby/buildkit:v") and name.endswith("-rootless")
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest)
    # Its entrypoint runs the daemon forever; the job starts one per build.
    assert build["image"]["entrypoint"] == [""]
    assert build["variables"] == {"BUILDKITD_FLAGS": "--oci-worker-no-process-sandbox"}
    command, *after = build["script"]
    assert command.startswith("buildctl-daemonless.sh build ")
    # An OCI layout the later jobs check and push: nothing leaves this job.
    assert "--output type=oci,dest=image,tar=false --metadata-file build.json" in command
    assert "push" not in command and "registry" not in command
    assert build["artifacts"]["paths"] == ["image/", "image.digest"]
    # The rest of the script takes the image's digest from BuildKit's
    # metadata, not its configuration's, and refuses anything else.
    image, config = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    metadata = {
        "containerimage.config.digest": config,
        "containerimage.descriptor": {"digest": image, "size": 476},
        "containerimage.digest": image,
    }
    (tmp_path / "build.json").write_text(json.dumps(metadata, indent=2), encoding="utf-8")
    run_script_items(after, tmp_path, {"PATH": "/usr/bin:/bin"})
    assert (tmp_path / "image.digest").read_text(encoding="utf-8") == image + "\n"
    (tmp_path / "build.json").write_text("{}", encoding="utf-8")
    with pytest.raises(subprocess.CalledProcessError):
        run_script_items(after, tmp_path, {"PATH": "/usr/bin:/bin"})


def run_script_items(items: list[str], directory: Path, variables: dict[str, str]) -> None:
    """Items of this project's own pipeline, in one shell that stops at the
    first failure, as GitLab runs a job's script."""
    subprocess.run(  # noqa: S603
        [shutil.which("sh") or "/bin/sh", "-ec", "\n".join(items)],
        cwd=directory,
        env=variables,
        check=True,
        timeout=30,
    )


def provenance_step() -> str:
    [step] = [line for line in pipeline()["image-sign"]["script"] if "> provenance.json" in line]
    return step


# What GitLab gives image-sign, and the signer the script computed before:
# a branch name with a quote and a backslash.
PROVENANCE_VARIABLES = {
    "CI_PROJECT_URL": "https://gitlab.com/acme/shop",
    "CI_COMMIT_BRANCH": 'release"1\\x',
    "CI_COMMIT_SHA": "0123456789abcdef" * 2 + "01234567",
    "CI_CONFIG_PATH": ".gitlab-ci.yml",
    "CI_PIPELINE_URL": "https://gitlab.com/acme/shop/-/pipelines/42",
    "signer": 'https://gitlab.com/acme/shop//.gitlab-ci.yml@refs/heads/release"1\\x',
    "PATH": "/usr/bin:/bin",
}


def test_ci_attests_build_provenance_of_the_signed_digest(tmp_path: Path):
    script = pipeline()["image-sign"]["script"]
    attest = (
        "cosign attest --yes --type slsaprovenance1 --predicate provenance.json"
        ' "$CI_REGISTRY_IMAGE@$scanned"'
    )
    assert attest in script
    # The commit is checked to be hex first; the predicate is made after the
    # signer is known, and attested before the signature is checked.
    guard = "echo \"$CI_COMMIT_SHA\" | grep -Eqx '[0-9a-f]{40}|[0-9a-f]{64}'"
    signer = next(i for i, line in enumerate(script) if line.startswith("signer="))
    made = script.index(provenance_step())
    verify = next(i for i, line in enumerate(script) if line.startswith("cosign verify "))
    assert signer < script.index(guard) < made < script.index(attest) < verify
    run_script_items([provenance_step()], tmp_path, PROVENANCE_VARIABLES)
    predicate = json.loads((tmp_path / "provenance.json").read_text(encoding="utf-8"))
    source = {
        "uri": 'git+https://gitlab.com/acme/shop@refs/heads/release"1\\x',
        "digest": {"gitCommit": PROVENANCE_VARIABLES["CI_COMMIT_SHA"]},
    }
    # The builder image named is the one image-build runs.
    name, _, digest = pipeline()["image-build"]["image"]["name"].partition("@")
    assert predicate == {
        "buildDefinition": {
            "buildType": (
                "https://github.com/rampart-dev/rampart/blob/main/docs/provenance/gitlab-image-v1.md"
            ),
            "externalParameters": {
                "source": source,
                "pipeline": ".gitlab-ci.yml",
                "dockerfile": "Dockerfile",
            },
            "resolvedDependencies": [source],
        },
        "runDetails": {
            "builder": {
                "id": PROVENANCE_VARIABLES["signer"],
                "builderDependencies": [
                    {
                        "uri": "pkg:docker/" + name.replace(":", "@", 1),
                        "digest": {"sha256": digest.removeprefix("sha256:")},
                    }
                ],
            },
            "metadata": {"invocationId": PROVENANCE_VARIABLES["CI_PIPELINE_URL"]},
        },
    }


def test_ci_refuses_provenance_it_cannot_write_as_json(tmp_path: Path):
    # Git refuses control characters in branch names; the step does too.
    tabbed = PROVENANCE_VARIABLES | {"CI_COMMIT_BRANCH": "release\t1"}
    with pytest.raises(subprocess.CalledProcessError):
        run_script_items([provenance_step()], tmp_path, tabbed)
    assert not (tmp_path / "provenance.json").exists()


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
