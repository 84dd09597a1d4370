"""Fixtures: an app per test, and a client that
talks HTTPS with a same-origin Referer, as a browser does.
"""

from __future__ import annotations

import uuid

import pytest
from flask import Flask

from edge_proxy import create_app

from .support import BrowserLikeClient, base_environ, csrf_token_from


@pytest.fixture
def environ(tmp_path):
    """The environment the app under test is created from."""
    return base_environ(tmp_path)


@pytest.fixture
def make_app(environ):
    """Create an app from ``environ_override`` (or the test environment);
    keyword arguments override settings."""

    def factory(environ_override: dict[str, str] | None = None, **overrides) -> Flask:
        # A fresh prefix keeps the sessions of one test away from the next
        # when they share a real cache server.
        overrides.setdefault("SESSION_KEY_PREFIX", f"test-{uuid.uuid4().hex}:session:")
        app = create_app(environ if environ_override is None else environ_override, overrides)
        app.test_client_class = BrowserLikeClient
        return app

    return factory


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_token():
    """Extracts the CSRF token from a page's form."""
    return csrf_token_from
