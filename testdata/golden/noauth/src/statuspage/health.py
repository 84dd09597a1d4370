"""Liveness and readiness probes."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db, limiter
from .security import SECURITY_HEADERS

bp = Blueprint("health", __name__)

# Every proxy the project deploys behind (Caddy, nginx, the Kubernetes
# gateway) sets X-Forwarded-For on what it passes on, whatever the client
# sent; the orchestrator's probes call the app directly, without it.
FORWARDED_HEADERS = ("X-Forwarded-For", "Forwarded")


class LivenessProbe:
    """WSGI middleware that answers GET and HEAD /healthz before Flask runs.

    Liveness means "this worker answers": it checks no dependency on purpose,
    so a database outage does not get every pod restarted. Answered in front
    of the app, a probe skips the work pages need (session, CSRF, log-in,
    rate limits) and costs less than a bare Flask route; the response still
    carries every security header. Other methods and paths go to the app.
    """

    PATH = "/healthz"
    BODY = b'{"status":"ok"}\n'

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.headers = [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(self.BODY))),
            *SECURITY_HEADERS.items(),
            ("Cache-Control", "no-store"),
        ]

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD")
        if environ.get("PATH_INFO") != self.PATH or method not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        start_response("200 OK", list(self.headers))
        return [] if method == "HEAD" else [self.BODY]


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
    load balancer until it recovers.

    For the orchestrator only: a request that came through a proxy gets the
    404 of a page that does not exist, since from outside this would be an
    unthrottled way to make the app query every backing service.
    """
    if any(name in request.headers for name in FORWARDED_HEADERS):
        abort(404)
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
