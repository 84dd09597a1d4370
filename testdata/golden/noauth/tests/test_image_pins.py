"""Every image the project builds from or runs is pinned by the digest of
its index, not only by a tag: a tag can be moved to other content (Trivy's
were, in March 2026), a digest cannot. The app's own image is the one
exception: deploys take the digest the pipeline pushed."""

import re
from collections.abc import Iterator
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PINNED = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?@sha256:[0-9a-f]{64}")
OWN_IMAGE = "${APP_IMAGE:-"
BUILDX_DEFAULT = "moby/buildkit:buildx-stable-1"
IMAGE_WORD = re.compile(r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?")


def dockerfile_images(text: str) -> Iterator[str]:
    for line in text.splitlines():
        # A syntax directive pulls a frontend image at every build.
        if line.startswith("# syntax="):
            yield line.removeprefix("# syntax=").strip()
        words = line.split()
        if words and words[0].upper() == "FROM":
            yield next(word for word in words[1:] if not word.startswith("--"))


def compose_images(document: dict) -> Iterator[str]:
    for service in (document.get("services") or {}).values():
        if "image" in service:
            yield service["image"]


def github_images(workflow: dict) -> Iterator[str]:
    """Job containers, service containers, and the images steps pull: a
    docker:// action, BuildKit for setup-buildx-action (its default is a
    tag) and any docker run."""
    for job in (workflow.get("jobs") or {}).values():
        container = job.get("container")
        if container:
            yield container if isinstance(container, str) else container["image"]
        for service in (job.get("services") or {}).values():
            yield service["image"]
        for step in job.get("steps") or []:
            uses = step.get("uses", "")
            if uses.startswith("docker://"):
                yield uses.removeprefix("docker://")
            if uses.startswith("docker/setup-buildx-action@"):
                options = (step.get("with") or {}).get("driver-opts", "").split()
                chosen = [o.removeprefix("image=") for o in options if o.startswith("image=")]
                yield chosen[0] if chosen else BUILDX_DEFAULT
            yield from docker_run_images(step.get("run", ""))


def docker_run_images(script: str) -> Iterator[str]:
    """The image of each docker run: among the command's words, the ones
    shaped like an image with a tag or digest (mounts start with $ or /)."""
    for command in script.replace("\\\n", " ").splitlines():
        words = command.split()
        for start in (i for i in range(len(words) - 1) if words[i : i + 2] == ["docker", "run"]):
            yield from (w for w in words[start + 2 :] if IMAGE_WORD.fullmatch(w) and ":" in w)


def gitlab_images(pipeline: dict) -> Iterator[str]:
    """The default image and services, and each job's (a job is any
    top-level mapping; keywords such as variables hold neither)."""
    for job in [pipeline, *(value for value in pipeline.values() if isinstance(value, dict))]:
        image = job.get("image")
        if image:
            yield image if isinstance(image, str) else image["name"]
        for service in job.get("services") or []:
            yield service if isinstance(service, str) else service["name"]


def project_images() -> list[tuple[str, str]]:
    found = [("Dockerfile", image) for image in dockerfile_images(_read(ROOT / "Dockerfile"))]
    readers = [
        ("compose.yaml", compose_images),
        ("compose.dev.yaml", compose_images),
        (".github/workflows/*.yml", github_images),
        (".gitlab-ci.yml", gitlab_images),
    ]
    for pattern, images in readers:
        for path in sorted(ROOT.glob(pattern)):
            document = yaml.safe_load(_read(path))
            found += [(str(path.relative_to(ROOT)), image) for image in images(document)]
    return found


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_every_image_is_pinned_by_digest():
    images = project_images()
    assert len([where for where, _ in images if where == "Dockerfile"]) == 2
    unpinned = [
        (where, image)
        for where, image in images
        if not image.startswith(OWN_IMAGE) and not PINNED.fullmatch(image)
    ]
    assert unpinned == []


def test_the_check_finds_images_in_every_shape_the_files_use():
    pinned = "python:3.11@sha256:" + "0" * 64
    dockerfile = f"# syntax=docker/dockerfile:1\nFROM --platform=$X {pinned} AS a\nFROM a\n"
    assert list(dockerfile_images(dockerfile)) == ["docker/dockerfile:1", pinned, "a"]
    compose = {"services": {"db": {"image": "postgres:17"}, "app": {"build": "."}}}
    assert list(compose_images(compose)) == ["postgres:17"]
    buildx = "docker/setup-buildx-action@" + "0" * 40
    workflow = {
        "jobs": {
            "image": {"name": "a job named image", "container": "c:1"},
            "test": {
                "container": {"image": "c:2"},
                "services": {"s": {"image": "redis:7"}},
                "steps": [
                    {"uses": buildx},
                    {"uses": buildx, "with": {"driver-opts": "network=host image=buildkit:1"}},
                    {"uses": "docker://alpine:3"},
                    {"run": 'docker run --rm --volume "$T/a:/a:ro" \\\n  trivy:1 image --input /a'},
                ],
            },
        }
    }
    assert list(github_images(workflow)) == [
        "c:1",
        "c:2",
        "redis:7",
        BUILDX_DEFAULT,
        "buildkit:1",
        "alpine:3",
        "trivy:1",
    ]
    pipeline = {
        "image": "python:3",
        "variables": {"A": "b"},
        "scan": {"image": {"name": "trivy:1", "entrypoint": [""]}, "services": ["m:1"]},
        "test": {"services": [{"name": "mariadb:11", "alias": "db"}]},
    }
    assert list(gitlab_images(pipeline)) == ["python:3", "trivy:1", "m:1", "mariadb:11"]
    assert not PINNED.fullmatch("postgres:17")
    assert not PINNED.fullmatch("postgres@sha256:" + "0" * 63)
    assert PINNED.fullmatch("quay.io/skopeo/stable:v1-immutable@sha256:" + "a" * 64)
