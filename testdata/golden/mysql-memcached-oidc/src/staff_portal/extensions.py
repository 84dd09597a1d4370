"""Flask extensions, created unbound here and attached in init_app."""

from __future__ import annotations

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
from sqlalchemy import MetaData

from .about import PROJECT_NAME
from .cache import LocalCache, MemcachedCache

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
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message_category = "info"

# Bounded timeouts: a stalled memcached must fail requests fast, not hang workers.
MEMCACHED_TIMEOUTS = {"connect_timeout": 2, "timeout": 2}


def memcached_client(servers: list[str]) -> PooledClient | HashClient:
    """A thread-safe client; several servers share the keys by consistent hashing."""
    if len(servers) == 1:
        return PooledClient(servers[0], **MEMCACHED_TIMEOUTS)
    return HashClient(servers, use_pooling=True, **MEMCACHED_TIMEOUTS)


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    servers = app.config["MEMCACHED_SERVERS"]
    if servers:
        client = memcached_client(servers)
        app.extensions["memcached"] = client
        app.extensions["cache"] = MemcachedCache(client)
        # Server-side sessions: the cookie holds only a random id, so log-out
        # deletes the session for good.
        app.config.setdefault("SESSION_TYPE", "memcached")
        app.config.setdefault("SESSION_MEMCACHED", client)
        app.config.setdefault("SESSION_KEY_PREFIX", f"{PROJECT_NAME}:session:")
        app.config.setdefault("SESSION_PERMANENT", True)
        Session(app)
        app.config.setdefault("RATELIMIT_STORAGE_URI", "memcached://" + ",".join(servers))
        app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", dict(MEMCACHED_TIMEOUTS))
    else:
        # Development without memcached: a per-process cache and signed-cookie sessions.
        app.extensions["cache"] = LocalCache()
    # Without a shared store, rate limits are counted per process.
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    app.config.setdefault("RATELIMIT_KEY_PREFIX", PROJECT_NAME)
    limiter.init_app(app)
    login_manager.init_app(app)
    # One registry per app (Authlib caches clients per registry), so each app
    # talks to the provider its own settings name.
    app.extensions["oidc"] = OAuth(app).register(
        name="oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"] + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            # Every call to the provider gives up after 5 seconds.
            "default_timeout": 5,
        },
    )
