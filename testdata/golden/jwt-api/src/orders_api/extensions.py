"""Flask extensions, created unbound here and attached in init_app."""

from __future__ import annotations

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from redis import Redis
from sqlalchemy import MetaData

from .about import PROJECT_NAME
from .cache import LocalCache, RedisCache

# Deterministic constraint names, so migrations can drop and alter them on
# every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION))
migrate = Migrate()

csrf = CSRFProtect()
# The client address comes from the WSGI environ, which ProxyFix corrects
# when FORWARDED_PROXIES says how many proxies to trust.
limiter = Limiter(get_remote_address)


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    redis_url = app.config["REDIS_URL"]
    if redis_url:
        # Bounded timeouts: a stalled Redis must fail requests fast, not hang workers.
        client = Redis.from_url(
            redis_url, socket_connect_timeout=2, socket_timeout=2, health_check_interval=30
        )
        app.extensions["redis"] = client
        app.extensions["cache"] = RedisCache(client)
        # Server-side sessions: the cookie holds only a random id, so log-out
        # deletes the session for good.
        app.config.setdefault("SESSION_TYPE", "redis")
        app.config.setdefault("SESSION_REDIS", client)
        app.config.setdefault("SESSION_KEY_PREFIX", f"{PROJECT_NAME}:session:")
        app.config.setdefault("SESSION_PERMANENT", True)
        Session(app)
        app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url)
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 2, "socket_timeout": 2}
        )
    else:
        # Development without Redis: a per-process cache and signed-cookie sessions.
        app.extensions["cache"] = LocalCache()
    # Without a shared store, rate limits are counted per process.
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", PROJECT_NAME)
    limiter.init_app(app)
