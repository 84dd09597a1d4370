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
