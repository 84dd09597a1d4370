"""Check the SLSA provenance statement that cosign verify-attestation printed
for a digest the generated GitLab pipeline pushed (scripts/gitlab-image-jobs.sh).

    python3 check_provenance.py ATTESTATIONS.json DIGEST COMMIT IDENTITY "BUILDKIT_TAG BUILDKIT_DIGEST"

Exits non-zero, with the statement printed, unless there is exactly one
envelope and its statement is the predicate the job's step writes for that
pipeline, of that digest.
"""

import base64
import json
import sys

path, digest, commit, identity, buildkit = sys.argv[1:]
version, buildkit_digest = buildkit.split()
with open(path, encoding="utf-8") as handle:
    [envelope] = [json.loads(line) for line in handle if line.strip()]
statement = json.loads(base64.b64decode(envelope["payload"]))
print(json.dumps(statement, indent=2))
assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
assert [s["digest"] for s in statement["subject"]] == [{"sha256": digest.removeprefix("sha256:")}]
source = {"uri": "git+https://gitlab.com/acme/shop@refs/heads/main", "digest": {"gitCommit": commit}}
assert statement["predicate"] == {
    "buildDefinition": {
        "buildType": "https://github.com/rampart-dev/rampart/blob/main/docs/provenance/gitlab-image-v1.md",
        "externalParameters": {"source": source, "pipeline": ".gitlab-ci.yml", "dockerfile": "Dockerfile"},
        "resolvedDependencies": [source],
    },
    "runDetails": {
        "builder": {
            "id": identity,
            "builderDependencies": [
                {"uri": f"pkg:docker/moby/buildkit@{version}-rootless", "digest": {"sha256": buildkit_digest}}
            ],
        },
        "metadata": {"invocationId": "https://gitlab.com/acme/shop/-/pipelines/4242"},
    },
}
