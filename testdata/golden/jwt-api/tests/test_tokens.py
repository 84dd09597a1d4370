"""Access tokens: HS256 only, with issuer, audience, expiry and subject required."""

import base64
import json
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
    }
    values.update(changes)
    return {name: value for name, value in values.items() if value is not None}


def account_claims(app, **changes) -> dict:
    """Claims naming the registered account and its auth_key: refused only
    for what ``changes`` break."""
    with app.app_context():
        user = db.session.scalar(select(User))
        return claims(user.id, **{"auth_key": user.auth_key, **changes})


def user_id_of(client, access_token: str) -> int:
    body = client.get("/api/v1/me", headers=bearer(access_token)).get_json()
    return body["id"]


def test_a_valid_token_is_accepted(client, app):
    issued = tokens(client)
    with app.app_context():
        user_id = verify_access_token(issued["access_token"]).id
    assert user_id == user_id_of(client, issued["access_token"])
    assert jwt.get_unverified_header(issued["access_token"])["alg"] == "HS256"


def _refused(client, token: str) -> None:
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_expired_token_is_refused(client, app):
    tokens(client)
    past = datetime.now(UTC) - timedelta(hours=1)
    token = jwt.encode(
        account_claims(app, iat=past, nbf=past, exp=past + timedelta(minutes=15)),
        app.config["JWT_SECRET_KEY"],
        algorithm="HS256",
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
    _refused(client, b64url({"alg": "none", "typ": "JWT"}) + "." + b64url(body) + ".")


def test_a_token_signed_with_another_key_is_refused(client, app):
    tokens(client)
    _refused(
        client, jwt.encode(account_claims(app), "another-secret-" + "x" * 32, algorithm="HS256")
    )


def test_a_token_with_another_algorithm_is_refused(client, app):
    tokens(client)
    token = jwt.encode(account_claims(app), app.config["JWT_SECRET_KEY"], algorithm="HS512")
    _refused(client, token)


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
    ],
)
def test_tokens_with_wrong_or_missing_claims_are_refused(client, app, changes):
    tokens(client)
    token = jwt.encode(account_claims(app, **changes), app.config["JWT_SECRET_KEY"], "HS256")
    _refused(client, token)


def test_a_token_for_a_deleted_user_is_refused(client, app):
    tokens(client)
    token = jwt.encode(account_claims(app, sub="424242"), app.config["JWT_SECRET_KEY"], "HS256")
    _refused(client, token)


def test_garbage_is_refused(app):
    with app.app_context(), pytest.raises(RejectedTokenError):
        verify_access_token("not.a.token")
