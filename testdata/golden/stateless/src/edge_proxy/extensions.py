"""Flask extensions, created unbound here and attached in init_app."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from . import ratelimit_store
from .about import PROJECT_NAME

csrf = CSRFProtect()
# The client address comes from the WSGI environ, which ProxyFix corrects
# when FORWARDED_PROXIES says how many proxies to trust.
limiter = Limiter(get_remote_address)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # Without a cache server, production counts in a SQLite file that every
    # worker of this server shares, so recycling a worker or spreading requests
    # over workers resets no limit; development and tests count per process.
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI",
        ratelimit_store.default_uri(PROJECT_NAME)
        if app.config["APP_ENV"] == "production"
        else "memory://",
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", PROJECT_NAME)
    # Said for every app: the one limiter would otherwise keep the last app's choice.
    app.config.setdefault("RATELIMIT_ENABLED", True)
    limiter.init_app(app)


def skip_idle_rate_limit_check(app: Flask) -> None:
    """Drop Flask-Limiter's check before every request when nothing uses it.

    This app's limits are on views (log-in, registration), and a limited view
    checks its own limits when called. The app-wide hook only serves default,
    application and blueprint limits; with none of those it would look up, on
    every request, limits that do not exist (about a quarter of the time of a
    page). Add any of them and the hook stays. Call after every blueprint is
    registered. With RATELIMIT_ENABLED=False the hook was never added.
    """
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit not in hooks:
        return
    manager = limiter.limit_manager
    if (
        manager.default_limits
        or manager.application_limits
        or any(manager.blueprint_limits(app, name) for name in app.blueprints)
    ):
        return
    hooks.remove(limiter._check_request_limit)
