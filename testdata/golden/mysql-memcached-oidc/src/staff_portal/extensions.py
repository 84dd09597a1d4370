"""Flask extensions, created unbound here and attached in init_app."""

from __future__ import annotations

import os
import sqlite3
import ssl
import weakref
from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_session import Session
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from pymemcache.client.base import PooledClient
from pymemcache.client.hash import HashClient
from sqlalchemy import Engine, MetaData, event

from . import ratelimit_store
from .about import PROJECT_NAME
from .cache import LocalCache, MemcachedCache
from .cache_sessions import AnonymousCookieSessions
from .oidc import DISCOVERY_PATH, IssuerCheckedClient

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


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    """SQLite ignores foreign keys unless told otherwise on each connection;
    without this, deleting a user would leave its rows in other tables behind."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


# The engines of every app made in this process. gunicorn loads the app once
# and forks its workers (preload_app): a worker must never use a pooled
# connection the master opened, or two processes would talk over one socket.
_engines: weakref.WeakSet = weakref.WeakSet()


def _drop_inherited_connections() -> None:
    for engine in list(_engines):
        # close=False: the parent still owns those sockets; the child only
        # forgets them and opens its own.
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_drop_inherited_connections)

csrf = CSRFProtect()
# The client address comes from the WSGI environ, which ProxyFix corrects
# when FORWARDED_PROXIES says how many proxies to trust.
limiter = Limiter(get_remote_address)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"

# Bounded timeouts: a stalled memcached must fail requests fast, not hang workers.
MEMCACHED_TIMEOUTS = {"connect_timeout": 2, "timeout": 2}


def memcached_options(tls: bool) -> dict[str, Any]:
    """Client options: bounded timeouts, and with MEMCACHED_TLS a TLS context
    that checks the server's certificate and host name (ssl's defaults)."""
    if tls:
        return {**MEMCACHED_TIMEOUTS, "tls_context": ssl.create_default_context()}
    return dict(MEMCACHED_TIMEOUTS)


def memcached_client(servers: list[str], tls: bool = False) -> PooledClient | HashClient:
    """A thread-safe client; several servers share the keys by consistent hashing."""
    if len(servers) == 1:
        return PooledClient(servers[0], **memcached_options(tls))
    return HashClient(servers, use_pooling=True, **memcached_options(tls))


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        _engines.update(db.engines.values())
    migrate.init_app(app, db)
    csrf.init_app(app)
    servers = app.config["MEMCACHED_SERVERS"]
    if servers:
        client = memcached_client(servers, app.config["MEMCACHED_TLS"])
        app.extensions["memcached"] = client
        app.extensions["cache"] = MemcachedCache(client)
        # Server-side sessions: the cookie holds only a random id, so log-out
        # deletes the session for good.
        app.config.setdefault("SESSION_TYPE", "memcached")
        app.config.setdefault("SESSION_MEMCACHED", client)
        app.config.setdefault("SESSION_KEY_PREFIX", f"{PROJECT_NAME}:session:")
        app.config.setdefault("SESSION_PERMANENT", True)
        Session(app)
        # Only sessions holding more than a CSRF token are stored in memcached.
        app.session_interface = AnonymousCookieSessions(app.session_interface, app)
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memcached://" + ",".join(servers))
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", memcached_options(app.config["MEMCACHED_TLS"])
        )
    else:
        # Development without memcached: a per-process cache and signed-cookie sessions.
        app.extensions["cache"] = LocalCache()
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
    login_manager.init_app(app)
    # One registry per app (Authlib caches clients per registry), so each app
    # talks to the provider its own settings name.
    app.extensions["oidc"] = OAuth(app).register(
        name="oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"] + DISCOVERY_PATH,
        # Refuses a discovery document that names another issuer.
        client_cls=IssuerCheckedClient,
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            # Every call to the provider gives up after 5 seconds.
            "default_timeout": 5,
        },
    )


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
