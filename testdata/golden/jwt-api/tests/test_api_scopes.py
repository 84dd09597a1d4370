"""Token scopes: a log-in asks for what its tokens may do, a refresh never
widens it, and every API route either names the scope it needs or is one
of the log-in routes that take no access token."""

import jwt
import pytest
from sqlalchemy import select

from orders_api.api import token_required
from orders_api.models import User
from orders_api.tokens import (
    SCOPES,
    STAFF_SCOPES,
    create_access_token,
)

from .accounts import NEW_PASSWORD, PASSWORD, bearer, log_in, register, tokens

EVERY_SCOPE = "account notes:read notes:write"
# The routes a client calls without an access token: each takes a password,
# a mailed token or a refresh token instead.
WITHOUT_ACCESS_TOKEN = {
    "api.register",
    "api.token",
    "api.refresh",
    "api.revoke",
    "api_links.confirm",
    "api_links.resend_confirmation",
    "api_links.request_reset",
    "api_links.reset_password",
    "api_links.recognise_device",
    "api_links.confirm_new_address",
    # The second step of a log-in: the password step's two_factor_token instead.
    "api_two_factor.log_in_with_code",
    # Passkey log-ins: the authenticator's signed answer instead.
    "api_passkeys.login_options",
    "api_passkeys.login",
    # The OpenAPI document, public like the API it describes.
    "api_docs.openapi_json",
}


def _insufficient(answer, scope: str) -> None:
    assert answer.status_code == 403
    assert answer.headers["WWW-Authenticate"] == (
        f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'
    )


def test_a_log_in_without_a_scope_gets_every_scope(client):
    issued = tokens(client)
    # Every scope but the admin one, which only staff roles get (test_api_admin.py).
    assert issued["scope"] == EVERY_SCOPE == " ".join(sorted(SCOPES.keys() - STAFF_SCOPES))
    claims = jwt.decode(issued["access_token"], options={"verify_signature": False})
    assert claims["scope"] == EVERY_SCOPE


def test_a_read_only_token_reads_and_nothing_else(client):
    issued = tokens(client, scope="notes:read")
    assert issued["scope"] == "notes:read"
    reader = bearer(issued["access_token"])
    assert client.get("/api/v1/notes", headers=reader).status_code == 200
    _insufficient(client.post("/api/v1/notes", json={"title": "x"}, headers=reader), "notes:write")
    _insufficient(client.delete("/api/v1/notes/1", headers=reader), "notes:write")
    _insufficient(client.get("/api/v1/me", headers=reader), "account")
    _insufficient(client.get("/api/v1/me/security-events", headers=reader), "account")
    answer = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=reader)
    _insufficient(answer, "account")


def test_an_unknown_scope_is_refused_and_the_answer_lists_the_scopes(client):
    register(client)
    answer = log_in(client, scope="notes:read root")
    assert answer.status_code == 400
    every = " ".join(sorted(SCOPES))
    assert answer.get_json()["error"] == (f"Unknown scope root; the scopes are: {every}.")
    assert "access_token" not in answer.get_json()


@pytest.mark.parametrize("scope", [["notes:read"], 7, {"notes:read": True}])
def test_a_scope_that_is_not_text_is_refused_not_widened(client, scope):
    register(client)
    answer = log_in(client, scope=scope)
    assert answer.status_code == 400
    # Checked against the body's schema (api_schemas.TokenRequest) before any scope is read.
    assert answer.get_json()["error"] == "scope: Input should be a valid string."
    assert "access_token" not in answer.get_json()


def test_a_refresh_keeps_the_scopes_of_the_log_in(client):
    issued = tokens(client, scope="notes:read")
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]}
    ).get_json()
    assert refreshed["scope"] == "notes:read"
    reader = bearer(refreshed["access_token"])
    assert client.get("/api/v1/notes", headers=reader).status_code == 200
    _insufficient(client.post("/api/v1/notes", json={"title": "x"}, headers=reader), "notes:write")


def test_a_password_change_answers_with_the_callers_scopes(client):
    issued = tokens(client, scope="account notes:read")
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
        headers=bearer(issued["access_token"]),
    )
    assert changed.status_code == 200
    assert changed.get_json()["scope"] == "account notes:read"
    # The new refresh token keeps them too: no wider than the caller's.
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": changed.get_json()["refresh_token"]}
    ).get_json()
    assert refreshed["scope"] == "account notes:read"
    writer = bearer(refreshed["access_token"])
    _insufficient(client.post("/api/v1/notes", json={"title": "x"}, headers=writer), "notes:write")


def test_a_scope_the_app_no_longer_has_grants_nothing(client, app):
    tokens(client)
    with app.app_context():
        user = app.extensions["sqlalchemy"].session.scalar(select(User))
        removed_only, _ = create_access_token(user, frozenset({"notes:admin"}))
        with_reading, _ = create_access_token(user, frozenset({"notes:admin", "notes:read"}))
    _insufficient(client.get("/api/v1/notes", headers=bearer(removed_only)), "notes:read")
    assert client.get("/api/v1/notes", headers=bearer(with_reading)).status_code == 200
    _insufficient(client.delete("/api/v1/notes/1", headers=bearer(with_reading)), "notes:write")


def test_a_view_cannot_name_a_scope_that_does_not_exist():
    with pytest.raises(ValueError, match="not one of tokens.SCOPES"):
        token_required("notes:admin")


def test_every_api_route_names_its_scope_or_takes_no_access_token(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        scope = getattr(view, "required_scope", None)
        if rule.endpoint in WITHOUT_ACCESS_TOKEN:
            assert scope is None, rule
        else:
            assert scope in SCOPES, f"{rule} names no scope: add @token_required(scope)"
