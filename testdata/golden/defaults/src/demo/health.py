"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Liveness: the process answers. Checks no dependency on purpose, so a
    database outage does not get every pod restarted."""
    return jsonify(status="ok")


def _check_database() -> bool:
    try:
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError as error:
        db.session.rollback()
        current_app.logger.warning(
            "readiness: database unavailable",
            extra={"event": "readiness", "error": type(error).__name__},
        )
        return False


def _check_cache() -> bool | None:
    client = current_app.extensions.get("redis")
    if client is None:
        return None  # REDIS_URL unset (development): nothing to check
    try:
        return bool(client.ping())
    except RedisError as error:
        current_app.logger.warning(
            "readiness: redis unavailable",
            extra={"event": "readiness", "error": type(error).__name__},
        )
        return False


@bp.get("/readyz")
@limiter.exempt
def readyz():
    """Readiness: every dependency answers. 503 takes the pod out of the
    load balancer until it recovers."""
    checks: dict[str, bool] = {}
    checks["database"] = _check_database()
    cache = _check_cache()
    if cache is not None:
        checks["cache"] = cache
    ready = all(checks.values())
    body = {
        "status": "ok" if ready else "unavailable",
        "checks": {name: "ok" if ok else "unavailable" for name, ok in checks.items()},
    }
    return jsonify(body), 200 if ready else 503
