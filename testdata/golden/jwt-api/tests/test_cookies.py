"""The session cookie carries the __Host- prefix, Secure, HttpOnly and SameSite."""

from flask import session


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
