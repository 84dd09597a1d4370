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

Usage: python check_workloads.py RENDERED.yaml...; prints each problem and
exits 1 if there is any.
"""

from __future__ import annotations

import sys

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
