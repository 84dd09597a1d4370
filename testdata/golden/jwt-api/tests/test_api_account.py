"""Account changes through the API, against a real SMTP server: a new
password, log out everywhere, a new address, deleting the account."""

import re
import time

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import func, select

from orders_api.extensions import db
from orders_api.models import (
    RefreshToken,
    User,
)

from .accounts import (
    NEW_PASSWORD,
    PASSWORD,
    bearer,
    log_in,
    mailed_token,
    register,
    tokens,
)


def change_password(client, access_token, current=PASSWORD, password=NEW_PASSWORD):
    return client.post(
        "/api/v1/me/password",
        json={"current_password": current, "password": password},
        headers=bearer(access_token),
    )


def change_address(client, access_token, email, password=PASSWORD):
    return client.post(
        "/api/v1/me/email",
        json={"password": password, "email": email},
        headers=bearer(access_token),
    )


def confirm_new_address(client, token, password=PASSWORD):
    return client.post("/api/v1/auth/email/confirm", json={"token": token, "password": password})


def asked_link(client, mail_server, issued, email="grace@example.com", count=1):
    """Ask for EMAIL to become the account's; the token of the mailed link."""
    assert change_address(client, issued["access_token"], email).status_code == 202
    return mailed_token(mail_server, "confirm-new-address", email=email.lower(), count=count)


def still_works(client, issued) -> tuple[bool, bool]:
    """Whether the access token still opens /me, and the refresh token still refreshes."""
    me = client.get("/api/v1/me", headers=bearer(issued["access_token"]))
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
    return me.status_code == 200, refreshed.status_code == 200


def test_a_new_password_ends_every_other_log_in_and_answers_with_fresh_tokens(app, mail_server):
    client = app.test_client()
    other = tokens(client)
    this = log_in(client).get_json()
    changed = change_password(client, this["access_token"])
    assert changed.status_code == 200, changed.get_json()
    fresh = changed.get_json()
    assert still_works(client, other) == (False, False)
    assert still_works(client, this) == (False, False)
    assert still_works(client, fresh) == (True, True)
    assert log_in(client).status_code == 401
    assert log_in(client, password=NEW_PASSWORD).status_code == 200
    notice = mail_server.wait_for("ada@example.com", having=re.compile("was just changed"))[0]
    assert notice.message["Subject"] == "Your password was changed"


def test_a_new_password_needs_the_current_one_and_meets_the_policy(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    wrong = change_password(client, issued["access_token"], current="not the password at all")
    assert wrong.status_code == 403
    assert "WWW-Authenticate" not in wrong.headers
    common = change_password(client, issued["access_token"], password="qwertyqwerty")
    assert common.status_code == 400
    assert "most common passwords" in common.get_json()["error"]
    assert still_works(client, issued) == (True, True)
    assert log_in(client).status_code == 200


def test_log_out_everywhere_ends_every_log_in_this_one_too(app, mail_server):
    client = app.test_client()
    first = tokens(client)
    second = log_in(client).get_json()
    ended = client.post(
        "/api/v1/me/log-out-everywhere", json={}, headers=bearer(second["access_token"])
    )
    assert ended.status_code == 204
    assert still_works(client, first) == (False, False)
    assert still_works(client, second) == (False, False)
    assert log_in(client).status_code == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/me/password", {"current_password": PASSWORD, "password": NEW_PASSWORD}),
        ("/api/v1/me/log-out-everywhere", {}),
        ("/api/v1/me/email", {"password": PASSWORD, "email": "new@example.com"}),
        ("/api/v1/me/delete", {"password": PASSWORD}),
    ],
)
def test_account_changes_need_a_valid_access_token(app, mail_server, path, body):
    client = app.test_client()
    issued = tokens(client)
    # A token of this account from before "log out everywhere" is no good either.
    client.post("/api/v1/me/log-out-everywhere", json={}, headers=bearer(issued["access_token"]))
    for headers in ({}, bearer("not-a-token"), bearer(issued["access_token"])):
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    assert log_in(client).status_code == 200


WRONG = "wrong guess number one"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/me/password", {"current_password": WRONG, "password": NEW_PASSWORD}),
        ("/api/v1/me/email", {"password": WRONG, "email": "new@example.com"}),
        ("/api/v1/me/delete", {"password": WRONG}),
        ("/api/v1/auth/email/confirm", {"token": "x", "password": WRONG}),
        ("/api/v1/me/log-out-everywhere", {}),
    ],
)
def test_account_changes_are_limited_per_client(make_app, mail_server, path, body):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    issued = tokens(client)
    statuses = [
        client.post(path, json=body, headers=bearer(issued["access_token"])).status_code
        for _ in range(3)
    ]
    assert 429 not in statuses[:2]
    assert statuses[2] == 429


def test_current_password_guesses_share_one_allowance(make_app, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    issued = tokens(client)
    headers = bearer(issued["access_token"])
    guesses = [
        ("/api/v1/me/password", {"current_password": WRONG, "password": NEW_PASSWORD}),
        ("/api/v1/me/email", {"password": WRONG, "email": "new@example.com"}),
        ("/api/v1/me/delete", {"password": WRONG}),
    ]
    statuses = [client.post(path, json=body, headers=headers).status_code for path, body in guesses]
    assert statuses == [403, 403, 429]


def test_a_new_address_counts_once_its_link_is_used(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    asked = change_address(client, issued["access_token"], "Grace@Example.com")
    assert asked.status_code == 202
    # Nothing changes before the link is used.
    assert still_works(client, issued) == (True, True)
    token = mailed_token(mail_server, "confirm-new-address", email="grace@example.com")
    confirmed = confirm_new_address(client, token)
    assert confirmed.status_code == 200, confirmed.get_json()
    # Every log-in of the account ends; the new address logs in, the old one does not.
    assert still_works(client, issued) == (False, False)
    assert log_in(client).status_code == 401
    assert log_in(client, email="grace@example.com").status_code == 200
    told = mail_server.wait_for("ada@example.com", having=re.compile("was just changed to"))[0]
    assert "g…@example.com" in told.text()
    assert "grace@example.com" not in told.message.as_string()
    # The link worked once.
    assert confirm_new_address(client, token).status_code == 400


def test_a_taken_address_gets_the_same_answer_and_its_owner_is_told(app, mail_server):
    register(app.test_client(), email="grace@example.com")
    client = app.test_client()
    issued = tokens(client)
    taken = change_address(client, issued["access_token"], "grace@example.com")
    free = change_address(client, issued["access_token"], "hopper@example.com")
    assert taken.status_code == free.status_code == 202
    assert taken.get_data() == free.get_data()
    notice = mail_server.wait_for(
        "grace@example.com", having=re.compile("move another account to this address")
    )[0]
    assert "token=" not in notice.text()
    assert log_in(client, email="grace@example.com").status_code == 200


def test_a_new_address_needs_the_current_password(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    refused = change_address(
        client, issued["access_token"], "grace@example.com", password="not the password at all"
    )
    assert refused.status_code == 403
    assert change_address(client, issued["access_token"], "not an address").status_code == 400
    assert change_address(client, issued["access_token"], "ADA@example.com").status_code == 400
    mail_server.settle(app)
    assert all("grace@example.com" not in m.recipients for m in mail_server.received())


def test_a_new_address_link_dies_with_a_password_change(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    change_address(client, issued["access_token"], "grace@example.com")
    token = mailed_token(mail_server, "confirm-new-address", email="grace@example.com")
    assert change_password(client, issued["access_token"]).status_code == 200
    assert confirm_new_address(client, token).status_code == 400
    assert log_in(client, password=NEW_PASSWORD).status_code == 200


def test_a_new_address_registered_meanwhile_is_a_409(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    change_address(client, issued["access_token"], "grace@example.com")
    token = mailed_token(mail_server, "confirm-new-address", email="grace@example.com")
    register(app.test_client(), email="grace@example.com")
    assert confirm_new_address(client, token).status_code == 409
    assert log_in(client).status_code == 200


def test_deleting_the_account_needs_the_current_password(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    refused = client.post(
        "/api/v1/me/delete",
        json={"password": "not the password at all"},
        headers=bearer(issued["access_token"]),
    )
    assert refused.status_code == 403
    assert still_works(client, issued) == (True, True)


def test_deleting_the_account_removes_it_and_its_tokens(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    deleted = client.post(
        "/api/v1/me/delete", json={"password": PASSWORD}, headers=bearer(issued["access_token"])
    )
    assert deleted.status_code == 204
    assert still_works(client, issued) == (False, False)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(RefreshToken)) == 0
    goodbye = mail_server.wait_for("ada@example.com", having=re.compile("account was deleted"))[0]
    assert goodbye.message["Subject"] == "Your account was deleted"
    # The address is free again.
    assert register(client).status_code == 202
    assert log_in(client).status_code == 200


def test_the_link_alone_changes_no_address(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    token = asked_link(client, mail_server, issued)
    # Whoever opens the link (a scanner, or the address's owner) without the
    # account's password changes nothing.
    alone = client.post("/api/v1/auth/email/confirm", json={"token": token})
    assert alone.status_code == 400
    wrong = confirm_new_address(client, token, password="not the password at all")
    assert wrong.status_code == 403
    assert still_works(client, issued) == (True, True)
    assert confirm_new_address(client, token).status_code == 200


def test_a_new_address_link_expires(app, mail_server, monkeypatch):
    client = app.test_client()
    token = asked_link(client, mail_server, tokens(client))
    hours = app.config["EMAIL_VERIFICATION_HOURS"]
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + hours * 3600 + 5)
    assert confirm_new_address(client, token).status_code == 400


def test_a_new_address_link_dies_with_log_out_everywhere(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    token = asked_link(client, mail_server, issued)
    client.post("/api/v1/me/log-out-everywhere", json={}, headers=bearer(issued["access_token"]))
    assert confirm_new_address(client, token).status_code == 400


def test_of_two_new_address_links_the_first_used_wins(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    grace = asked_link(client, mail_server, issued, "grace@example.com")
    hopper = asked_link(client, mail_server, issued, "hopper@example.com")
    assert confirm_new_address(client, grace).status_code == 200
    assert confirm_new_address(client, hopper).status_code == 400
    assert log_in(client, email="grace@example.com").status_code == 200


def test_a_new_address_link_dies_even_if_the_address_comes_back(make_app, mail_server, monkeypatch):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="100 per minute")
    client = app.test_client()
    issued = tokens(client)
    first = asked_link(client, mail_server, issued, "grace@example.com")
    # A second later, so the links differ.
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 1)
    back = asked_link(client, mail_server, issued, "ada@elsewhere.example", count=1)
    assert confirm_new_address(client, back).status_code == 200
    # Back to the old address, through a link of its own.
    issued = log_in(client, email="ada@elsewhere.example").get_json()
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 2)
    home = asked_link(client, mail_server, issued, "ada@example.com", count=1)
    assert confirm_new_address(client, home).status_code == 200
    # The address and the password are what they were when the first link
    # was made; the account's auth_key is not, so the link is dead.
    assert confirm_new_address(client, first).status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/confirm", {"password": PASSWORD}),
        ("/api/v1/auth/reset/new", {"password": NEW_PASSWORD}),
    ],
)
def test_a_new_address_link_opens_nothing_else(app, mail_server, path, body):
    client = app.test_client()
    token = asked_link(client, mail_server, tokens(client))
    assert client.post(path, json={"token": token, **body}).status_code == 400
    assert log_in(client).status_code == 200


def test_other_links_and_forged_ones_change_no_address(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    token = asked_link(client, mail_server, issued)
    client.post("/api/v1/auth/reset", json={"email": "ada@example.com"})
    reset = mailed_token(mail_server, "reset-password")
    middle = len(token) // 4
    altered = token[:middle] + ("B" if token[middle] != "B" else "C") + token[middle + 1 :]
    for other in (reset, altered, token + "A" * 600):
        assert confirm_new_address(client, other).status_code == 400
    assert confirm_new_address(client, token).status_code == 200
