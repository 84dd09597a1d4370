"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from .extensions import limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness: the process answers. Checks no dependency on purpose, so a
    database outage does not get every pod restarted."""
    return jsonify(status="ok")


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Readiness: every dependency answers. 503 takes the pod out of the
    load balancer until it recovers."""
    checks: dict[str, bool] = {}
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if ok else "unavailable" for name, ok in checks.items()},
    }
    return jsonify(body), 200 if ready else 503
