"""Flask extensions, created unbound here and attached in init_app."""

from __future__ import annotations

import os
import sqlite3
import weakref
from typing import Any

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import Engine, MetaData, event

from . import ratelimit_store
from .about import PROJECT_NAME

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


def init_app(app: Flask) -> None:
    db.init_app(app)
    with app.app_context():
        _engines.update(db.engines.values())
    migrate.init_app(app, db)
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
    login_manager.init_app(app)


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
