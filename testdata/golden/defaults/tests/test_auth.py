"""Registration, log-in and log-out, end to end through the forms."""

import os
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select

from demo.extensions import db
from demo.models import User

from .accounts import PASSWORD, log_in, log_out, register


def test_register_log_in_and_out(client, csrf_token, app):
    response = register(client, csrf_token)
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ada@example.com"
        assert PASSWORD not in user.password_hash

    response = log_in(client, csrf_token, email="ada@example.com ")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account")
    page = client.get("/account")
    assert page.status_code == 200
    assert "ada@example.com" in page.get_data(as_text=True)

    response = log_out(client, csrf_token)
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_account_needs_log_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_wrong_password_is_refused_generically(client, csrf_token):
    register(client, csrf_token)
    wrong = log_in(client, csrf_token, password="not the password at all")
    unknown = log_in(client, csrf_token, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert "Invalid email or password" in wrong.get_data(as_text=True)
    # The same answer whether or not the account exists.
    assert "Invalid email or password" in unknown.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_a_common_password_or_one_built_on_the_address_is_refused(client, csrf_token, app):
    common = register(client, csrf_token, password="qwertyqwerty")
    assert common.status_code == 400
    assert "one of the most common passwords" in common.get_data(as_text=True)
    own = register(client, csrf_token, email="ada.lovelace@x.org", password="Ada.Lovelace1815")
    assert own.status_code == 400
    assert "built on your email address" in own.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_short_password_is_refused(client, csrf_token, app):
    response = register(client, csrf_token, password="short")
    assert response.status_code == 400
    assert "at least 12 characters" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(User)) is None


def test_mismatched_confirmation_is_refused(client, csrf_token):
    response = register(client, csrf_token, confirm=PASSWORD + "!")
    assert response.status_code == 400


def test_a_taken_email_makes_no_second_account(client, csrf_token, app):
    register(client, csrf_token)
    response = register(client, csrf_token, email="ADA@example.com", password="another password!")
    assert response.status_code == 200
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 1
    assert log_in(client, csrf_token).status_code == 302


def test_logout_needs_post_and_csrf(client, csrf_token):
    register(client, csrf_token)
    log_in(client, csrf_token)
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_no_open_redirect_after_log_in(client, csrf_token, target):
    register(client, csrf_token)
    response = log_in(client, csrf_token, query="?next=" + target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_local_next_is_followed(client, csrf_token):
    register(client, csrf_token)
    response = log_in(client, csrf_token, query="?next=/account")
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize(
    "target",
    # A NUL anywhere in a request gets 400 before any view (tests/test_limits.py).
    ["/account\x07", "/account\r\nSet-Cookie: x=1", "/acc\tount", "/account\u2028", "/a b"],
)
def test_control_characters_in_next_are_ignored(client, csrf_token, target):
    # The log-in succeeds and lands on the account page, not on a 500.
    register(client, csrf_token)
    response = log_in(client, csrf_token, query="?next=" + quote(target))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_user_ids_are_never_reused(app):
    with app.app_context():
        first = User(email="first@example.com", password_hash="x")
        db.session.add(first)
        db.session.commit()
        first_id = first.id
        db.session.delete(first)
        db.session.commit()
        second = User(email="second@example.com", password_hash="x")
        db.session.add(second)
        db.session.commit()
        assert second.id > first_id


def test_a_deleted_accounts_session_opens_nothing(app, csrf_token):
    old = app.test_client()
    register(old, csrf_token)
    log_in(old, csrf_token)
    assert old.get("/account").status_code == 200
    with app.app_context():
        db.session.execute(delete(User))
        db.session.commit()
    newcomer = app.test_client()
    register(newcomer, csrf_token, email="grace@example.com")
    log_in(newcomer, csrf_token, email="grace@example.com")
    assert newcomer.get("/account").status_code == 200
    # The old session must not open the account created after it.
    assert old.get("/account").status_code == 302


def test_session_is_renewed_at_log_in(client, csrf_token):
    register(client, csrf_token)
    client.get("/auth/login")
    before = client.get_cookie("__Host-session")
    log_in(client, csrf_token)
    after = client.get_cookie("__Host-session")
    assert before is not None and after is not None
    assert before.value != after.value


def test_auth_events_are_logged_without_secrets(client, csrf_token, caplog, app):
    register(client, csrf_token)
    log_in(client, csrf_token, password="wrong password, surely")
    log_in(client, csrf_token)
    log_out(client, csrf_token)
    events = [getattr(r, "event", None) for r in caplog.records]
    assert "register" in events
    assert "login_failed" in events
    assert "login" in events
    assert "logout" in events
    with app.app_context():
        auth_key = db.session.scalar(select(User)).auth_key
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert PASSWORD not in text
        assert "wrong password, surely" not in text
        assert auth_key not in text


@pytest.mark.skipif(
    not os.environ.get("REDIS_URL"),
    reason="server-side sessions need REDIS_URL",
)
def test_log_out_revokes_the_server_side_session(client, csrf_token):
    register(client, csrf_token)
    log_in(client, csrf_token)
    stolen = client.get_cookie("__Host-session").value
    log_out(client, csrf_token)
    # Replaying the old cookie after log-out must not get back in.
    client.set_cookie("__Host-session", stolen, domain="localhost", secure=True, path="/")
    assert client.get("/account").status_code == 302
