"""State-changing requests need a valid CSRF token, signed with HMAC-SHA256."""

import base64
import hashlib
import hmac
import json

import pytest
from flask import render_template_string
from itsdangerous import BadSignature, URLSafeTimedSerializer

from .support import TEST_SECRET_KEY

CSRF_SALT = b"wtf-csrf-token"


def _app_with_form(make_app):
    app = make_app()

    @app.route("/probe/form", methods=["GET", "POST"])
    def form():
        return render_template_string(
            '<form method="post"><input name="csrf_token" type="hidden" value="{{ csrf_token() }}">'
            "</form>"
        )

    return app


def test_post_without_token_is_refused(make_app):
    client = _app_with_form(make_app).test_client()
    response = client.post("/probe/form", data={"field": "value"})
    assert response.status_code == 400


def test_post_with_a_forged_token_is_refused(make_app):
    client = _app_with_form(make_app).test_client()
    client.get("/probe/form")
    response = client.post("/probe/form", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_post_from_another_origin_is_refused(make_app, csrf_token):
    client = _app_with_form(make_app).test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    response = client.post(
        "/probe/form", data={"csrf_token": token}, headers={"Referer": "https://evil.example/"}
    )
    assert response.status_code == 400


def test_post_with_the_token_is_accepted(make_app, csrf_token):
    client = _app_with_form(make_app).test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    response = client.post("/probe/form", data={"csrf_token": token})
    assert response.status_code == 200


def _urlsafe_b64decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def test_csrf_tokens_are_signed_with_hmac_sha256(make_app, csrf_token):
    client = _app_with_form(make_app).test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    signed, _, signature = token.rpartition(".")
    # itsdangerous derives the signing key as digest(salt + "signer" + secret).
    key = hashlib.sha256(CSRF_SALT + b"signer" + TEST_SECRET_KEY.encode()).digest()
    expected = hmac.new(key, signed.encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(_urlsafe_b64decode(signature), expected)


def test_a_sha1_signed_csrf_token_is_refused(make_app, csrf_token):
    client = _app_with_form(make_app).test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    sha1 = URLSafeTimedSerializer(TEST_SECRET_KEY, salt=CSRF_SALT)
    with pytest.raises(BadSignature):
        sha1.loads(token)
    # The same session token, signed the old way (itsdangerous' SHA-1 default).
    session_token = json.loads(_urlsafe_b64decode(token.split(".")[0]))
    response = client.post("/probe/form", data={"csrf_token": sha1.dumps(session_token)})
    assert response.status_code == 400
