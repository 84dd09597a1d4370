"""Helpers shared by the tests."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import text

from orders_api.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parents[1] / "migrations")
TEST_SECRET_KEY = "test-only-secret-key-" + "0123456789abcdef" * 2
BASE_URL = "https://localhost"
# Settings taken from the environment, so the suite can run against real servers.
SERVER_SETTINGS: list[str] = ["DATABASE_URL", "REDIS_URL"]


class BrowserLikeClient(FlaskClient):
    """Requests go to https://localhost with a same-origin Referer, which
    Flask-WTF's strict CSRF check requires over HTTPS.

    Each client has its own loopback address, so rate-limit counters of one
    test never reach the next when they share a real Redis (Flask-Limiter is
    one object per process, whatever the number of apps)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        octets = secrets.token_bytes(3)
        self.environ_base["REMOTE_ADDR"] = "127." + ".".join(str(b) for b in octets)

    def open(self, *args, **kwargs):
        # Read each response whole and close it, as a server does, so work
        # the app leaves for after the response (mail) runs.
        kwargs.setdefault("buffered", True)
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", BASE_URL)
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Referer", BASE_URL + "/")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def base_environ(tmp_path: Path) -> dict[str, str]:
    """Test settings: a throw-away SQLite file unless DATABASE_URL points at
    a real server; Redis only when REDIS_URL is set."""
    environ = {
        "APP_ENV": "testing",
        "SECRET_KEY": TEST_SECRET_KEY,
        "TRUSTED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
    }
    for name in SERVER_SETTINGS:
        if os.environ.get(name):
            environ[name] = os.environ[name]
    return environ


def migrate(app: Flask) -> None:
    with app.app_context():
        upgrade(directory=MIGRATIONS)


def reset_database(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.drop_all()
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.engine.dispose()


_CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_FIELD.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)
