"""The ingress controller is the only way in: it passes requests on whole, and
/readyz stays the kubelet's (the app refuses it through a proxy: test_health)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

BASE = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes" / "base"


def manifests(kind: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted(BASE.glob("*.yaml")):
        found += [
            doc
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
            if doc and doc["kind"] == kind
        ]
    return found


def test_only_the_ingress_controller_reaches_the_pods():
    [service] = manifests("Service")
    assert service["spec"]["type"] == "ClusterIP"
    web_policies = [
        policy
        for policy in manifests("NetworkPolicy")
        if "Ingress" in policy["spec"]["policyTypes"] and policy["spec"].get("ingress")
    ]
    [policy] = web_policies
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]


def test_the_ingress_passes_requests_on_whole():
    # gunicorn has no deadline for a slow client (gunicorn.conf.py).
    ingresses = manifests("Ingress")
    assert ingresses
    for ingress in ingresses:
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/proxy-request-buffering"] == "on"


def test_plain_http_reaches_the_app_only_for_the_api():
    # Pages are redirected by the controller; the API's plain-HTTP requests
    # are passed on, for the app to refuse them with 403 (test_https), when
    # there is an API.
    redirected = {
        ingress["metadata"]["name"]: ingress["metadata"]["annotations"][
            "nginx.ingress.kubernetes.io/ssl-redirect"
        ]
        for ingress in manifests("Ingress")
    }
    paths = {
        ingress["metadata"]["name"]: [
            path["path"] for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]
        ]
        for ingress in manifests("Ingress")
    }
    for name, redirect in redirected.items():
        assert redirect == ("false" if paths[name] == ["/api"] else "true"), name


def test_the_kubelet_asks_readiness_directly():
    [deployment] = manifests("Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == "/readyz"
    assert all(h["name"].lower() != "x-forwarded-for" for h in probe.get("httpHeaders", []))
