"""Fixtures: an app per test on an empty database at the latest migration, and a client that
talks HTTPS with a same-origin Referer, as a browser does.

Set DATABASE_URL and REDIS_URL to run the suite against real servers.
"""

from __future__ import annotations

import uuid

import pytest
from argon2 import PasswordHasher
from flask import Flask

from orders_api import create_app, passwords
from orders_api.after_response import (
    wait_until_done,
)

from .mail_server import MailServer
from .openapi_conformance import watch_statuses
from .support import (
    BrowserLikeClient,
    base_environ,
    csrf_token_from,
    drop_migrated_databases,
    migrate,
    release_database,
)


@pytest.fixture(scope="session")
def running_mail_server(tmp_path_factory):
    with MailServer(tmp_path_factory.mktemp("mail")).running() as server:
        yield server


@pytest.fixture
def mail_server(running_mail_server):
    """The SMTP server the app sends to (STARTTLS, verified, with a log-in),
    emptied for each test."""
    running_mail_server.reset()
    return running_mail_server


@pytest.fixture
def environ(tmp_path, mail_server):
    """The environment the app under test is created from."""
    return {**base_environ(tmp_path), **mail_server.settings()}


@pytest.fixture
def make_app(environ):
    """Create an app from ``environ_override`` (or the test environment);
    keyword arguments override settings. ``migrated=True`` gives the test's
    first app on a database that database at the latest revision with no rows
    in it; the test's later apps on it share it as it then is."""
    created: list[Flask] = []
    migrated_databases: set[str] = set()
    made: list[Flask] = []
    undocumented: list[str] = []

    def factory(
        environ_override: dict[str, str] | None = None, *, migrated: bool = False, **overrides
    ) -> Flask:
        # A fresh prefix keeps the sessions of one test away from the next
        # when they share a real cache server.
        overrides.setdefault("SESSION_KEY_PREFIX", f"test-{uuid.uuid4().hex}:session:")
        # And its per-account counters (the same test account in every test).
        overrides.setdefault("RATELIMIT_KEY_PREFIX", f"test-{uuid.uuid4().hex}")
        app = create_app(environ if environ_override is None else environ_override, overrides)
        app.test_client_class = BrowserLikeClient
        # Every API answer of every test must have a status the OpenAPI document lists.
        watch_statuses(app, undocumented)
        made.append(app)
        if migrated:
            created.append(app)
            database = app.config["SQLALCHEMY_DATABASE_URI"]
            if database not in migrated_databases:
                migrate(app)
                migrated_databases.add(database)
        return app

    yield factory
    for app in made:
        # Mail and unsolicited events leave after the response: none may reach
        # the next test's mailbox or tables.
        wait_until_done(app)
    for app in created:
        release_database(app)
    assert not undocumented, f"answers the OpenAPI document does not list: {undocumented}"


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


# The production parameters (64 MiB, 3 passes) cost about 0.1 s of CPU a
# hash, and nearly every test registers or logs in. Tests hash with argon2id's
# cheapest parameters instead, except those marked real_password_hashing:
# test_passwords.py proves the production parameters, test_hashing_bound.py
# their memory bound. Only the test suite ever sees this hasher.
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "real_password_hashing: hash with the production argon2id parameters"
    )


@pytest.fixture(autouse=True)
def cheap_password_hashing(request, monkeypatch):
    if request.node.get_closest_marker("real_password_hashing") is None:
        monkeypatch.setattr(passwords, "hasher", CHEAP_HASHER)
    # The decoy hash is made once per process: never reuse the other hasher's.
    passwords._decoy_hash.cache_clear()
    yield
    passwords._decoy_hash.cache_clear()
