"""The platform's Gateway is the only way in: its proxies alone reach the pods,
plain HTTP is redirected to HTTPS (the API's is refused by the app instead),
and /readyz stays the kubelet's (the app refuses it through a proxy:
test_health)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

KUSTOMIZE = Path(__file__).resolve().parents[1] / "deploy" / "kubernetes"
BASE = KUSTOMIZE / "base"
PUBLIC_HOST = KUSTOMIZE / "components" / "public-host"
OVERLAYS = sorted((KUSTOMIZE / "overlays").glob("*/kustomization.yaml"))
# What the HTTP listener passes to the app instead of redirecting it.
API_OVER_PLAIN_HTTP = []


def manifests(kind: str) -> list[dict[str, Any]]:
    found = []
    for path in sorted(BASE.glob("*.yaml")):
        found += [
            doc
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
            if doc and doc["kind"] == kind
        ]
    return found


def copied_from_gateway(key: str) -> list[tuple[str, str | None, str]]:
    """(kind, name, field path) of each place public-host copies the overlay's
    gateway setting KEY into."""
    component = yaml.safe_load((PUBLIC_HOST / "kustomization.yaml").read_text(encoding="utf-8"))
    return [
        (target["select"]["kind"], target["select"].get("name"), path)
        for replacement in component["replacements"]
        if replacement["source"]
        == {"kind": "ConfigMap", "name": "gateway", "fieldPath": f"data.{key}"}
        for target in replacement["targets"]
        for path in target["fieldPaths"]
    ]


def route(name: str) -> dict[str, Any]:
    [found] = [r for r in manifests("HTTPRoute") if r["metadata"]["name"] == name]
    return found


def test_only_the_gateway_reaches_the_pods():
    [service] = manifests("Service")
    assert service["spec"]["type"] == "ClusterIP"
    web_policies = [
        policy
        for policy in manifests("NetworkPolicy")
        if "Ingress" in policy["spec"]["policyTypes"] and policy["spec"].get("ingress")
    ]
    [policy] = web_policies
    [rule] = policy["spec"]["ingress"]
    [source] = rule["from"]
    # One namespace by name: no address block, no pod outside it.
    assert list(source) == ["namespaceSelector"]
    assert list(source["namespaceSelector"]) == ["matchLabels"]
    assert list(source["namespaceSelector"]["matchLabels"]) == ["kubernetes.io/metadata.name"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    # ...the one each overlay names as where the gateway's proxies run.
    assert copied_from_gateway("proxyNamespace") == [
        (
            "NetworkPolicy",
            policy["metadata"]["name"],
            "spec.ingress.0.from.0.namespaceSelector.matchLabels.[kubernetes.io/metadata.name]",
        )
    ]


def gateway_settings(overlay: Path) -> dict[str, str]:
    kustomization = yaml.safe_load(overlay.read_text(encoding="utf-8"))
    [generator] = [g for g in kustomization["configMapGenerator"] if g["name"] == "gateway"]
    # Named as is and never applied: it only carries the settings.
    assert generator["options"]["disableNameSuffixHash"] is True
    assert generator["options"]["annotations"] == {"config.kubernetes.io/local-config": "true"}
    return dict(literal.split("=", 1) for literal in generator["literals"])


def test_routes_attach_to_the_gateway_each_overlay_names():
    assert OVERLAYS
    for overlay in OVERLAYS:
        settings = gateway_settings(overlay)
        assert sorted(settings) == sorted(
            ["name", "namespace", "httpsListener", "httpListener", "proxyNamespace"]
        )
        assert all(settings.values()), overlay
        # One listener for each: on one, the redirect and the app would
        # compete for every plain-HTTP request.
        assert settings["httpsListener"] != settings["httpListener"], overlay
    routes = manifests("HTTPRoute")
    assert sorted(r["metadata"]["name"] for r in routes) == sorted(
        [service_name(), f"{service_name()}-http"]
    )
    for found in routes:
        [parent] = found["spec"]["parentRefs"]
        assert (parent["group"], parent["kind"]) == ("gateway.networking.k8s.io", "Gateway")
    for key in ("name", "namespace"):
        assert copied_from_gateway(key) == [("HTTPRoute", None, f"spec.parentRefs.0.{key}")]
    assert copied_from_gateway("httpsListener") == [
        ("HTTPRoute", service_name(), "spec.parentRefs.0.sectionName")
    ]
    assert copied_from_gateway("httpListener") == [
        ("HTTPRoute", f"{service_name()}-http", "spec.parentRefs.0.sectionName")
    ]


def service_name() -> str:
    [service] = manifests("Service")
    return service["metadata"]["name"]


def test_https_requests_reach_only_the_app():
    [service] = manifests("Service")
    [port] = service["spec"]["ports"]
    [rule] = route(service_name())["spec"]["rules"]
    # An implementation's own filter (ExtensionRef, such as Traefik's
    # buffering Middleware) may be added; nothing that redirects or rewrites.
    assert all(f["type"] == "ExtensionRef" for f in rule.get("filters", []))
    assert rule["backendRefs"] == [{"name": service_name(), "port": port["port"]}]


def test_plain_http_reaches_the_app_only_for_the_api():
    # Pages are redirected by the gateway; the API's plain-HTTP requests are
    # passed on, for the app to refuse them with 403 (test_https), when there
    # is an API.
    passed_on = []
    for rule in route(f"{service_name()}-http")["spec"]["rules"]:
        [match] = rule["matches"]
        if "backendRefs" in rule:
            assert rule["backendRefs"] == [{"name": service_name(), "port": 80}]
            passed_on.append(match["path"])
        else:
            assert match["path"] == {"type": "PathPrefix", "value": "/"}
            redirect = {"scheme": "https", "statusCode": 301}
            assert rule["filters"] == [{"type": "RequestRedirect", "requestRedirect": redirect}]
    assert passed_on == API_OVER_PLAIN_HTTP


def test_the_kubelet_asks_readiness_directly():
    [deployment] = manifests("Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    probe = container["readinessProbe"]["httpGet"]
    assert probe["path"] == "/readyz"
    assert all(h["name"].lower() != "x-forwarded-for" for h in probe.get("httpHeaders", []))
