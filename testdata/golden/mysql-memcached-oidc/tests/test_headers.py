"""Security headers on every response."""

import pytest

PATHS = ["/", "/healthz", "/no-such-page"]


@pytest.mark.parametrize("path", PATHS)
def test_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert headers["Cache-Control"] == "no-store"
    assert "Server" not in headers
    assert "X-Powered-By" not in headers


def test_hsts_lasts_at_least_a_year(client):
    value = client.get("/").headers["Strict-Transport-Security"]
    directives = dict(part.strip().partition("=")[::2] for part in value.split(";"))
    assert int(directives["max-age"]) >= 31536000
    assert "includeSubDomains" in directives


def test_content_security_policy_is_strict(app, client):
    policy = client.get("/").headers["Content-Security-Policy"]
    directives = {
        d.split()[0]: d.split()[1:] for d in (part.strip() for part in policy.split(";")) if d
    }
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    # Log-out continues at the provider's end_session_endpoint, and only there.
    assert directives["form-action"] == ["'self'", app.config["OIDC_ISSUER"]]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_pages_have_no_inline_script_or_style(client):
    html = client.get("/").get_data(as_text=True)
    assert "<script" not in html
    assert "<style" not in html
    assert " style=" not in html


def test_static_files_may_be_cached(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
