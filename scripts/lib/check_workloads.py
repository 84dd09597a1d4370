"""Check rendered Kubernetes manifests (kustomize build output) for what
schema validation and checkov do not: how the workloads behave together.

- A Deployment an HorizontalPodAutoscaler scales sets no replicas: a count in
  the manifest would reset the autoscaler's at every apply.
- A Deployment that can run more than one replica spreads them over nodes
  (a hard topology spread on kubernetes.io/hostname that selects its pods).
- Every PodDisruptionBudget selects a Deployment's pods and lets unhealthy
  pods be evicted (unhealthyPodEvictionPolicy: AlwaysAllow), so a broken pod
  cannot block a node drain.
- Every container of a Deployment or Job requests and limits ephemeral-storage.
- An egress rule open to any address opens only ports of services on the
  internet (HTTPS, SMTP submission); a database's or cache's port is opened
  to named addresses only.
- Traffic comes through Gateway API: no Ingress (ingress-nginx is retired);
  every HTTPRoute sends requests only to Services that are here, whose pods
  NetworkPolicies admit from named namespaces only (the gateway's proxies),
  and every host an HTTPRoute serves also has its plain-HTTP requests for /
  redirected to HTTPS.
- An image admission policy (Kyverno's NamespacedImageValidatingPolicy, the
  optional signed-images component) governs the workloads' namespace, denies
  rather than audits, fails closed, covers pods' creation and update and
  every workload's image, and names its signers by exact identity and issuer.

Usage: python check_workloads.py RENDERED.yaml...; prints each problem and
exits 1 if there is any.
"""

from __future__ import annotations

import sys
from fnmatch import fnmatchcase

import yaml

HOSTNAME = "kubernetes.io/hostname"
# Ports an egress rule may open to any address: an identity provider's HTTPS,
# an SMTP server's submission ports.
OPEN_EGRESS_PORTS = {443, 465, 587}


def selects(selector: dict, labels: dict) -> bool:
    wanted = (selector or {}).get("matchLabels") or {}
    return bool(wanted) and all(labels.get(key) == value for key, value in wanted.items())


def reaches_anything(peer: dict) -> bool:
    """Whether a NetworkPolicy peer stands for every address: a default route
    as an ipBlock, or every pod of every namespace."""
    if "ipBlock" in peer:
        return peer["ipBlock"].get("cidr") in ("0.0.0.0/0", "::/0")
    namespaces = peer.get("namespaceSelector")
    return namespaces is not None and not namespaces and not peer.get("podSelector")


def problems_of(documents: list[dict]) -> list[str]:
    found = []
    by_kind: dict[str, list[dict]] = {}
    for document in documents:
        by_kind.setdefault(document.get("kind", ""), []).append(document)
    deployments = {d["metadata"]["name"]: d for d in by_kind.get("Deployment", [])}
    most = {name: deployment["spec"].get("replicas", 1) for name, deployment in deployments.items()}

    for hpa in by_kind.get("HorizontalPodAutoscaler", []):
        target = hpa["spec"]["scaleTargetRef"]
        deployment = deployments.get(target["name"]) if target["kind"] == "Deployment" else None
        if deployment is None:
            found.append(
                f"HorizontalPodAutoscaler {hpa['metadata']['name']} scales {target['kind']} {target['name']}, which is not here"
            )
            continue
        if "replicas" in deployment["spec"]:
            found.append(
                f"Deployment {target['name']} sets replicas although HorizontalPodAutoscaler {hpa['metadata']['name']} scales it"
            )
        most[target["name"]] = hpa["spec"]["maxReplicas"]

    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"].get("labels") or {}
        spreads = deployment["spec"]["template"]["spec"].get("topologySpreadConstraints") or []
        over_nodes = [
            spread
            for spread in spreads
            if spread.get("topologyKey") == HOSTNAME
            and spread.get("whenUnsatisfiable") == "DoNotSchedule"
            and selects(spread.get("labelSelector"), labels)
        ]
        if most[name] > 1 and not over_nodes:
            found.append(
                f"Deployment {name} runs up to {most[name]} replicas with no DoNotSchedule spread over {HOSTNAME} that selects its pods"
            )

    for pdb in by_kind.get("PodDisruptionBudget", []):
        pdb_name = pdb["metadata"]["name"]
        if pdb["spec"].get("unhealthyPodEvictionPolicy") != "AlwaysAllow":
            found.append(
                f"PodDisruptionBudget {pdb_name} lets unhealthy pods block drains (no unhealthyPodEvictionPolicy: AlwaysAllow)"
            )
        pods = [d["spec"]["template"]["metadata"].get("labels") or {} for d in deployments.values()]
        if not any(selects(pdb["spec"].get("selector"), labels) for labels in pods):
            found.append(f"PodDisruptionBudget {pdb_name} selects no Deployment's pods")

    for kind in ("Deployment", "Job"):
        for workload in by_kind.get(kind, []):
            pod = workload["spec"]["template"]["spec"]
            for container in pod.get("initContainers", []) + pod.get("containers", []):
                resources = container.get("resources") or {}
                for part in ("requests", "limits"):
                    if "ephemeral-storage" not in (resources.get(part) or {}):
                        found.append(
                            f"{kind} {workload['metadata']['name']}: container {container['name']} has no ephemeral-storage in {part}"
                        )
    for policy in by_kind.get("NetworkPolicy", []):
        for rule in policy["spec"].get("egress") or []:
            if rule.get("to") and not any(reaches_anything(peer) for peer in rule["to"]):
                continue
            ports = [port.get("port") for port in rule.get("ports") or [{}]]
            wide = [port for port in ports if port not in OPEN_EGRESS_PORTS]
            if wide:
                found.append(
                    f"NetworkPolicy {policy['metadata']['name']} lets the pods reach {', '.join(str(p or 'every port') for p in wide)} at any address"
                )
    found += route_problems(by_kind)
    found += signature_problems(by_kind)
    return found


def signature_problems(by_kind: dict[str, list[dict]]) -> list[str]:
    """What lets an unsigned image or another signer's image past an image
    admission policy that is here."""
    found = []
    workloads = by_kind.get("Deployment", []) + by_kind.get("Job", [])
    namespaces = {w["metadata"].get("namespace") for w in workloads}
    images = {
        c["image"]
        for w in workloads
        for c in w["spec"]["template"]["spec"].get("initContainers", []) + w["spec"]["template"]["spec"]["containers"]
    }
    for policy in by_kind.get("NamespacedImageValidatingPolicy", []):
        name, spec = policy["metadata"]["name"], policy["spec"]
        what = f"NamespacedImageValidatingPolicy {name}"
        if {policy["metadata"].get("namespace")} != namespaces:
            found.append(f"{what} is in namespace {policy['metadata'].get('namespace')}, the workloads in {sorted(map(str, namespaces))}")
        if spec.get("validationActions") != ["Deny"]:
            found.append(f"{what} does not deny (validationActions {spec.get('validationActions')})")
        if spec.get("failurePolicy") != "Fail":
            found.append(f"{what} admits what it cannot check (failurePolicy {spec.get('failurePolicy', 'unset')})")
        rules = (spec.get("matchConstraints") or {}).get("resourceRules") or []
        if not any(
            "pods" in r.get("resources", []) and {"CREATE", "UPDATE"} <= set(r.get("operations", [])) for r in rules
        ):
            found.append(f"{what} does not cover the creation and update of pods")
        globs = [m["glob"] for m in spec.get("matchImageReferences") or [] if "glob" in m]
        for image in sorted(images):
            if not any(fnmatchcase(image, g) for g in globs):
                found.append(f"{what} does not check image {image}")
        configurations = spec.get("validationConfigurations") or {}
        for setting, meaning in (("required", "images through unchecked"), ("verifyDigest", "images by tag")):
            if configurations.get(setting) is False:
                found.append(f"{what} lets {meaning} (validationConfigurations.{setting} false)")
        for attestor in spec.get("attestors") or []:
            identities = ((attestor.get("cosign") or {}).get("keyless") or {}).get("identities") or []
            for identity in identities:
                if not identity.get("subject") or not identity.get("issuer") or set(identity) - {"subject", "issuer"}:
                    found.append(
                        f"{what}: attestor {attestor['name']} names a signer by other than an exact subject and issuer: {identity}"
                    )
        if not spec.get("validations"):
            found.append(f"{what} validates nothing")
    return found


def names_one_namespace(peer: dict) -> bool:
    namespaces = peer.get("namespaceSelector") or {}
    return (
        set(peer) == {"namespaceSelector"}
        and set(namespaces) == {"matchLabels"}
        and set(namespaces["matchLabels"]) == {"kubernetes.io/metadata.name"}
    )


def may_select(selector: dict, labels: dict) -> bool:
    """Whether a pod selector may select pods with these labels: its
    matchExpressions are not evaluated, so it errs towards yes."""
    wanted = (selector or {}).get("matchLabels") or {}
    return all(labels.get(key) == value for key, value in wanted.items())


def is_root(match: dict) -> bool:
    return match.get("path", {"type": "PathPrefix", "value": "/"}) == {"type": "PathPrefix", "value": "/"}


def route_problems(by_kind: dict[str, list[dict]]) -> list[str]:
    found = [f"Ingress {i['metadata']['name']}: use an HTTPRoute (Gateway API)" for i in by_kind.get("Ingress", [])]
    services = {s["metadata"]["name"]: s for s in by_kind.get("Service", [])}
    pods = [d["spec"]["template"]["metadata"].get("labels") or {} for d in by_kind.get("Deployment", [])]
    # Per host, the listeners (gateway namespace, name, sectionName) on which
    # requests for / reach a backend, and those on which they are redirected
    # to HTTPS; a missing sectionName means every listener of the Gateway.
    served: dict[str, set[tuple]] = {}
    redirected: dict[str, set[tuple]] = {}
    for route in by_kind.get("HTTPRoute", []):
        name = route["metadata"]["name"]
        namespace = route["metadata"].get("namespace")
        hosts = route["spec"].get("hostnames") or ["*"]
        listeners = [
            (p.get("namespace", namespace), p["name"], p.get("sectionName", "*"))
            for p in route["spec"].get("parentRefs") or []
            if p.get("kind", "Gateway") == "Gateway"
        ]
        if not listeners:
            found.append(f"HTTPRoute {name} is attached to no Gateway")
        for listener in listeners:
            if listener[2] == "*":
                found.append(f"HTTPRoute {name} is attached to every listener of Gateway {listener[1]} (no sectionName)")
        for rule in route["spec"].get("rules") or []:
            roots = any(is_root(m) for m in rule.get("matches") or [{}])
            for backend in rule.get("backendRefs") or []:
                if roots:
                    for host in hosts:
                        served.setdefault(host, set()).update(listeners)
                service = services.get(backend["name"])
                if (
                    backend.get("kind", "Service") != "Service"
                    or backend.get("namespace", namespace) != namespace
                    or service is None
                ):
                    found.append(f"HTTPRoute {name} sends requests to {backend['name']}, which is not a Service here")
                    continue
                if backend.get("port") not in [p["port"] for p in service["spec"].get("ports") or []]:
                    found.append(f"HTTPRoute {name} sends requests to port {backend.get('port')} of Service {backend['name']}, which it does not have")
                reached = [labels for labels in pods if selects({"matchLabels": service["spec"].get("selector")}, labels)]
                if not reached:
                    found.append(f"HTTPRoute {name}: Service {backend['name']} selects no Deployment's pods")
                for labels in reached:
                    found += admission_problems(by_kind, labels, f"HTTPRoute {name}: pods of Service {backend['name']}")
            for redirect in (f.get("requestRedirect") for f in rule.get("filters") or []):
                if redirect and redirect.get("scheme") == "https" and roots:
                    for host in hosts:
                        redirected.setdefault(host, set()).update(listeners)
    for host in sorted(served):
        both = served[host] & redirected.get(host, set())
        if both:
            found.append(f"host {host}: requests for / are both redirected and served on {sorted(both)}")
        gateways = {listener[:2] for listener in served[host]}
        if not [r for r in redirected.get(host, set()) - served[host] if r[:2] in gateways]:
            found.append(f"host {host}: no other listener of the Gateway serving it redirects plain HTTP for / to HTTPS")
    return found


def admission_problems(by_kind: dict[str, list[dict]], labels: dict, what: str) -> list[str]:
    """What lets other pods than the gateway's reach pods with these labels:
    no default-deny of ingress for them, or a rule admitting more than one
    namespace named by kubernetes.io/metadata.name."""
    found = []
    policies = [
        p
        for p in by_kind.get("NetworkPolicy", [])
        if may_select(p["spec"].get("podSelector") or {}, labels)
        and "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"])
    ]
    if not policies:
        found.append(f"{what}: no NetworkPolicy limits who reaches them")
    for policy in policies:
        for rule in policy["spec"].get("ingress") or []:
            peers = rule.get("from") or [{}]
            if not all(names_one_namespace(peer) for peer in peers):
                found.append(
                    f"{what} can be reached through NetworkPolicy {policy['metadata']['name']} from elsewhere than one namespace named by kubernetes.io/metadata.name"
                )
    return found


def main(paths: list[str]) -> int:
    if not paths:
        print("usage: check_workloads.py RENDERED.yaml...", file=sys.stderr)
        return 2
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as rendered:
            documents = [d for d in yaml.safe_load_all(rendered) if d]
        for problem in problems_of(documents):
            print(f"{path}: {problem}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
