"""Access tokens: HS256 only, with issuer, audience, expiry and subject
required, signed by a key the header names (kid) and rotatable."""

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from sqlalchemy import select

from orders_api.extensions import db
from orders_api.models import User
from orders_api.tokens import (
    AUDIENCE,
    ISSUER,
    RejectedTokenError,
    key_id,
    verify_access_token,
)

from .accounts import bearer, tokens


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(user_id: int = 1, auth_key: str = "", **changes) -> dict:
    now = datetime.now(UTC)
    values = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "auth_key": auth_key,
        "iat": now,
        "nbf": now,
        "exp": now + timedelta(minutes=5),
        "jti": "test",
        "scope": "account",
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def account_claims(app, **changes) -> dict:
    """Claims naming the registered account and its auth_key: refused only
    for what ``changes`` break."""
    with app.app_context():
        user = db.session.scalar(select(User))
        return claims(user.id, **{"auth_key": user.auth_key, **changes})


def sign(claims: dict, key: str, algorithm: str = "HS256", kid: object = "") -> str:
    """A token signed with ``key`` whose header names it, unless ``kid`` says
    otherwise (None leaves the header without one)."""
    headers = {} if kid is None else {"kid": key_id(key) if kid == "" else kid}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def user_id_of(client, access_token: str) -> int:
    body = client.get("/api/v1/me", headers=bearer(access_token)).get_json()
    return body["id"]


def test_a_valid_token_is_accepted(client, app):
    issued = tokens(client)
    with app.app_context():
        user_id = verify_access_token(issued["access_token"]).user.id
    assert user_id == user_id_of(client, issued["access_token"])
    header = jwt.get_unverified_header(issued["access_token"])
    assert header["alg"] == "HS256"
    assert header["kid"] == key_id(app.config["JWT_SECRET_KEY"])


def _refused(client, token: str, because: str = "is invalid") -> None:
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_token", '
        f'error_description="The access token {because}."'
    )


def test_an_expired_token_is_refused(client, app):
    tokens(client)
    past = datetime.now(UTC) - timedelta(hours=1)
    token = sign(
        account_claims(app, iat=past, nbf=past, exp=past + timedelta(minutes=15)),
        app.config["JWT_SECRET_KEY"],
    )
    _refused(client, token, because="expired")


def test_an_expired_token_under_an_unknown_key_is_only_invalid(client, app):
    tokens(client)
    past = datetime.now(UTC) - timedelta(hours=1)
    token = sign(
        account_claims(app, iat=past, nbf=past, exp=past + timedelta(minutes=15)),
        "another-secret-" + "x" * 32,
    )
    _refused(client, token)


def test_a_tampered_token_is_refused(client):
    issued = tokens(client)
    header, payload, signature = issued["access_token"].split(".")
    forged = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    forged["sub"] = "999"
    _refused(client, ".".join([header, b64url(forged), signature]))


def test_an_alg_none_token_is_refused(client, app):
    tokens(client)
    body = account_claims(app)
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in body.items()}
    header = {"alg": "none", "typ": "JWT", "kid": key_id(app.config["JWT_SECRET_KEY"])}
    _refused(client, b64url(header) + "." + b64url(body) + ".")


def test_a_token_signed_with_another_key_is_refused(client, app):
    tokens(client)
    other = "another-secret-" + "x" * 32
    _refused(client, sign(account_claims(app), other))
    # Named as the app's own key, signed with another.
    _refused(client, sign(account_claims(app), other, kid=key_id(app.config["JWT_SECRET_KEY"])))


def test_a_token_with_another_algorithm_is_refused(client, app):
    tokens(client)
    token = sign(account_claims(app), app.config["JWT_SECRET_KEY"], algorithm="HS512")
    _refused(client, token)


def signed_by_hand(header: dict, body: dict, key: str) -> str:
    """HS256 over any header, even one PyJWT would not write."""
    body = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in body.items()}
    signing_input = b64url(header) + "." + b64url(body)
    mac = hmac.new(key.encode(), signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


@pytest.mark.parametrize("kid", [None, "0123456789abcdef", "é", ["a"], 7])
def test_a_token_whose_header_names_no_known_key_is_refused(client, app, kid):
    tokens(client)
    key = app.config["JWT_SECRET_KEY"]
    header = {"alg": "HS256", "typ": "JWT"} | ({} if kid is None else {"kid": kid})
    _refused(client, signed_by_hand(header, account_claims(app), key))
    # The same token naming the key is accepted: only the kid was wrong.
    named = signed_by_hand({**header, "kid": key_id(key)}, account_claims(app), key)
    assert client.get("/api/v1/me", headers=bearer(named)).status_code == 200


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "another-api"},
        {"iss": "someone-else"},
        {"exp": None},
        {"sub": None},
        {"sub": "x1"},
        {"auth_key": None},
        {"auth_key": "another-accounts-key"},
        {"scope": None},
        {"scope": ["account"]},
    ],
)
def test_tokens_with_wrong_or_missing_claims_are_refused(client, app, changes):
    tokens(client)
    _refused(client, sign(account_claims(app, **changes), app.config["JWT_SECRET_KEY"]))


def test_a_token_for_a_deleted_user_is_refused(client, app):
    tokens(client)
    _refused(client, sign(account_claims(app, sub="424242"), app.config["JWT_SECRET_KEY"]))


def test_garbage_is_refused(app):
    with app.app_context(), pytest.raises(RejectedTokenError):
        verify_access_token("not.a.token")


def test_rotation_keeps_tokens_of_the_previous_key_until_it_is_dropped(client, app):
    old_token = tokens(client)["access_token"]
    old_key, new_key = app.config["JWT_SECRET_KEY"], secrets.token_hex(32)
    app.config.update(JWT_SECRET_KEY=new_key, JWT_SECRET_KEY_FALLBACKS=[old_key])
    assert client.get("/api/v1/me", headers=bearer(old_token)).status_code == 200
    # New tokens are signed with the new key only.
    new_token = tokens(client)["access_token"]
    assert jwt.get_unverified_header(new_token)["kid"] == key_id(new_key) != key_id(old_key)
    jwt.decode(new_token, new_key, algorithms=["HS256"], audience=AUDIENCE)
    app.config["JWT_SECRET_KEY_FALLBACKS"] = []
    _refused(client, old_token)
    assert client.get("/api/v1/me", headers=bearer(new_token)).status_code == 200


def test_key_ids_are_stable_and_tell_keys_apart():
    key = secrets.token_hex(32)
    assert key_id(key) == key_id(key)
    assert len(key_id(key)) == 16
    assert key_id(key) != key_id(secrets.token_hex(32))
    assert key_id(key) not in key


def test_a_request_without_credentials_gets_the_challenge_without_an_error(client):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'


def test_an_empty_bearer_token_is_a_malformed_request(client):
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer "})
    assert response.status_code == 400
    assert response.headers["WWW-Authenticate"] == (
        'Bearer realm="api", error="invalid_request", '
        'error_description="The bearer token is missing."'
    )
