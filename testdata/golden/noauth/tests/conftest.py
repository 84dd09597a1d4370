"""Fixtures: an app per test on an empty database at the latest migration, and a client that
talks HTTPS with a same-origin Referer, as a browser does.

Set DATABASE_URL and REDIS_URL to run the suite against real servers.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from statuspage import create_app

from .support import (
    BrowserLikeClient,
    base_environ,
    csrf_token_from,
    drop_migrated_databases,
    migrate,
    release_database,
)


@pytest.fixture
def environ(tmp_path):
    """The environment the app under test is created from."""
    return base_environ(tmp_path)


@pytest.fixture
def make_app(environ):
    """Create an app from ``environ_override`` (or the test environment);
    keyword arguments override settings. ``migrated=True`` gives the test's
    first app on a database that database at the latest revision with no rows
    in it; the test's later apps on it share it as it then is."""
    created: list[Flask] = []
    migrated_databases: set[str] = set()

    def factory(
        environ_override: dict[str, str] | None = None, *, migrated: bool = False, **overrides
    ) -> Flask:
        # A fresh prefix keeps the sessions of one test away from the next
        # when they share a real cache server.
        overrides.setdefault("SESSION_KEY_PREFIX", f"test-{uuid.uuid4().hex}:session:")
        app = create_app(environ if environ_override is None else environ_override, overrides)
        app.test_client_class = BrowserLikeClient
        if migrated:
            created.append(app)
            database = app.config["SQLALCHEMY_DATABASE_URI"]
            if database not in migrated_databases:
                migrate(app)
                migrated_databases.add(database)
        return app

    yield factory
    for app in created:
        release_database(app)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # Last, once pytest has torn down what an interrupted run left open.
    drop_migrated_databases()


@pytest.fixture
def app(make_app):
    return make_app(migrated=True)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_token():
    """Extracts the CSRF token from a page's form."""
    return csrf_token_from
