"""Flask extensions, created unbound here and attached in init_app."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from .about import PROJECT_NAME

csrf = CSRFProtect()
# The client address comes from the WSGI environ, which ProxyFix corrects
# when FORWARDED_PROXIES says how many proxies to trust.
limiter = Limiter(get_remote_address)


def init_app(app: Flask) -> None:
    csrf.init_app(app)
    # Without a shared store, rate limits are counted per process.
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", PROJECT_NAME)
    limiter.init_app(app)


def skip_idle_rate_limit_check(app: Flask) -> None:
    """Drop Flask-Limiter's check before every request when nothing uses it.

    This app's limits are on views (log-in, registration), and a limited view
    checks its own limits when called. The app-wide hook only serves default,
    application and blueprint limits; with none of those it would look up, on
    every request, limits that do not exist (about a quarter of the time of a
    page). Add any of them and the hook stays. Call after every blueprint is
    registered.
    """
    manager = limiter.limit_manager
    if (
        manager.default_limits
        or manager.application_limits
        or any(manager.blueprint_limits(app, name) for name in app.blueprints)
    ):
        return
    app.before_request_funcs[None].remove(limiter._check_request_limit)
