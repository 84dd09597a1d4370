"""The session cookie carries the __Host- prefix, Secure, HttpOnly and SameSite,
and a cookie session is signed with HMAC-SHA256."""

import base64
import hashlib
import hmac

from flask import session
from flask.sessions import SecureCookieSessionInterface

from .support import TEST_SECRET_KEY

# Settings that would put sessions on a cache server; without them sessions
# live in a signed cookie.
CACHE_SETTINGS = ("REDIS_URL", "MEMCACHED_SERVERS")


def _session_cookie_header(make_app) -> str:
    app = make_app()

    @app.get("/probe/session")
    def probe():
        session["probe"] = "value"
        return "ok"

    response = app.test_client().get("/probe/session")
    cookies = response.headers.getlist("Set-Cookie")
    matching = [c for c in cookies if c.startswith("__Host-session=")]
    assert matching, f"no __Host-session cookie in {cookies}"
    return matching[0]


def test_session_cookie_flags(make_app):
    cookie = _session_cookie_header(make_app)
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    # __Host- cookies must not name a domain.
    assert not any(a.startswith("domain=") for a in attributes)


def test_cookie_settings(make_app):
    config = make_app().config
    assert config["SESSION_COOKIE_NAME"].startswith("__Host-")
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    if "REMEMBER_COOKIE_NAME" in config:
        assert config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
        assert config["REMEMBER_COOKIE_SECURE"] is True
        assert config["REMEMBER_COOKIE_HTTPONLY"] is True


def _cookie_session_app(make_app, environ):
    app = make_app({k: v for k, v in environ.items() if k not in CACHE_SETTINGS})

    @app.get("/probe/session")
    def probe():
        session["probe"] = "value"
        return "ok"

    @app.get("/probe/read")
    def read():
        return session.get("probe", "nothing")

    return app


def _urlsafe_b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_cookie_sessions_are_signed_with_hmac_sha256(make_app, environ):
    client = _cookie_session_app(make_app, environ).test_client()
    client.get("/probe/session")
    value = client.get_cookie("__Host-session").value
    signed, _, signature = value.rpartition(".")
    # Flask derives the signing key with HMAC from SECRET_KEY and its salt.
    key = hmac.new(TEST_SECRET_KEY.encode(), b"cookie-session", hashlib.sha256).digest()
    expected = hmac.new(key, signed.encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_urlsafe_b64decode(signature), expected)


def test_a_sha1_signed_session_cookie_is_refused(make_app, environ):
    app = _cookie_session_app(make_app, environ)
    # What Flask signs by default (HMAC-SHA1), with the right key.
    sha1_cookie = (
        SecureCookieSessionInterface().get_signing_serializer(app).dumps({"probe": "forged"})
    )
    client = app.test_client()
    client.set_cookie("__Host-session", sha1_cookie)
    assert client.get("/probe/read").get_data(as_text=True) == "nothing"
