"""Anonymous visitors get no server-side session on redis; signed-in ones do, and
log-out deletes it. These tests need a real server (REDIS_URL)."""

from __future__ import annotations

import os
import pickle

import pytest
from flask import Flask, render_template_string, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from orders_api.after_response import (
    wait_until_done,
)
from orders_api.cache_sessions import (
    AnonymousCookieSessions,
)
from orders_api.security import (
    SignedCookieSessions,
)

SERVER_SETTING = "REDIS_URL"
pytestmark = pytest.mark.skipif(
    not os.environ.get(SERVER_SETTING), reason=f"server-side sessions need {SERVER_SETTING}"
)
COOKIE = "__Host-session"
FORM_PAGES = ("/probe/form",)


def session_writes(app: Flask) -> int:
    """How many sessions the Redis server holds under this app's prefix."""
    pattern = app.config["SESSION_KEY_PREFIX"] + "*"
    return sum(1 for _ in app.extensions["redis"].scan_iter(match=pattern))


def is_stored(app: Flask, session_id: str) -> bool:
    return bool(app.extensions["redis"].exists(app.config["SESSION_KEY_PREFIX"] + session_id))


def _app(make_app) -> Flask:
    app = make_app(migrated=True)

    @app.route("/probe/form", methods=["GET", "POST"])
    def form():
        return render_template_string(
            '<form method="post"><input name="csrf_token" value="{{ csrf_token() }}"></form>'
        )

    @app.post("/probe/sign-in")
    def sign_in():
        session["user"] = "someone"
        return "signed in"

    @app.post("/probe/sign-out")
    def sign_out():
        session.clear()
        return "signed out"

    @app.get("/probe/who")
    def who():
        return session.get("user", "nobody")

    return app


@pytest.fixture
def session_app(make_app) -> Flask:
    app = _app(make_app)
    assert isinstance(app.session_interface, AnonymousCookieSessions)
    # The app's first response starts its daily purge (housekeeping.py), which
    # writes to the rate-limit store (memcached counts it among its sets):
    # let it finish before a test counts writes.
    assert app.test_client().get("/").status_code == 200
    wait_until_done(app)
    return app


def test_anonymous_form_pages_store_no_session(session_app):
    client = session_app.test_client(use_cookies=False)
    writes = session_writes(session_app)
    for _ in range(200):
        for page in FORM_PAGES:
            response = client.get(page)
            assert response.status_code == 200
            # The form's CSRF token is bound to the browser by a signed cookie.
            assert any(c.startswith(COOKIE + "=") for c in response.headers.getlist("Set-Cookie"))
    assert session_writes(session_app) == writes


def test_an_anonymous_form_still_passes_csrf(session_app, csrf_token):
    client = session_app.test_client()
    writes = session_writes(session_app)
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    assert client.post("/probe/form", data={"csrf_token": token}).status_code == 200
    assert client.post("/probe/form", data={"csrf_token": "forged"}).status_code == 400
    assert session_writes(session_app) == writes


def test_the_anonymous_cookie_is_signed_with_hmac_sha256(session_app):
    client = session_app.test_client()
    client.get("/probe/form")
    value = client.get_cookie(COOKIE).value
    sha256 = SignedCookieSessions().get_signing_serializer(session_app)
    assert "csrf_token" in sha256.loads(value)
    with pytest.raises(BadSignature):
        SecureCookieSessionInterface().get_signing_serializer(session_app).loads(value)


def test_a_signed_in_session_is_stored_and_sign_out_deletes_it(session_app, csrf_token):
    client = session_app.test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    client.post("/probe/sign-in", data={"csrf_token": token})
    # The cookie holds only the random id (32 bytes) of the stored session.
    cookie = client.get_cookie(COOKIE).value
    assert len(cookie) >= 43 and "." not in cookie
    assert is_stored(session_app, cookie)
    assert client.get("/probe/who").get_data(as_text=True) == "someone"

    client.post("/probe/sign-out", data={"csrf_token": token})
    assert not is_stored(session_app, cookie)
    client.set_cookie(COOKIE, cookie, domain="localhost", secure=True, path="/")
    assert client.get("/probe/who").get_data(as_text=True) == "nobody"


SIDE_EFFECTS: list[str] = []


def _record_unpickling() -> str:
    SIDE_EFFECTS.append("unpickled")
    return "ran"


class _Payload:
    def __reduce__(self):
        return (_record_unpickling, ())


def test_stored_sessions_are_never_unpickled(session_app):
    # Whoever can write to the cache server must not make the app run code.
    session_id = "planted-session-id"
    store_id = session_app.config["SESSION_KEY_PREFIX"] + session_id
    payload = pickle.dumps({"user": _Payload()})
    session_app.extensions["redis"].set(store_id, payload, ex=60)
    client = session_app.test_client()
    client.set_cookie(COOKIE, session_id, domain="localhost", secure=True, path="/")
    assert client.get("/probe/who").get_data(as_text=True) == "nobody"
    assert SIDE_EFFECTS == []
