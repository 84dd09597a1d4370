"""Registration that tells nobody which addresses have accounts, address
confirmation and password reset by mailed links, through the JSON API and
against a real SMTP server."""

import re
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select, update

from orders_api.after_response import (
    wait_until_done,
)
from orders_api.extensions import db
from orders_api.models import User

from .accounts import (
    NEW_PASSWORD,
    PASSWORD,
    bearer,
    log_in,
    mailed_token,
    register,
    tokens,
)


def confirm(client, token, password=PASSWORD):
    return client.post("/api/v1/auth/confirm", json={"token": token, "password": password})


def request_reset(client, email="ada@example.com"):
    return client.post("/api/v1/auth/reset", json={"email": email})


def choose_password(client, token, password=NEW_PASSWORD):
    return client.post("/api/v1/auth/reset/new", json={"token": token, "password": password})


def test_registration_answers_the_same_for_a_new_and_a_taken_address(app, mail_server):
    register(app.test_client())
    taken = register(app.test_client(), email="ADA@example.com", password="another long password")
    new = register(app.test_client(), email="grace@example.com", confirmed=False)
    assert taken.status_code == new.status_code == 202
    assert taken.get_data() == new.get_data()
    # Each owner hears of it; the one who asked learns nothing.
    grace = mail_server.wait_for("grace@example.com")[0]
    assert grace.message["Subject"] == "Confirm your email address"
    notices = [m for m in mail_server.settle(app) if m.recipients == ["ada@example.com"]]
    assert [m.message["Subject"] for m in notices] == [
        "Confirm your email address",
        "Someone tried to register with your address",
    ]
    assert "token=" not in notices[1].text()
    assert "http://localhost:3000/reset-password" in notices[1].text()
    # The taken account keeps its password.
    assert log_in(app.test_client()).status_code == 200


def test_an_account_gets_tokens_once_its_address_is_confirmed(app, mail_server):
    client = app.test_client()
    register(client, confirmed=False)
    unconfirmed = log_in(client)
    wrong = log_in(client, password="not the password at all")
    # Refused like a wrong password: whoever registered a free address learns nothing.
    assert unconfirmed.status_code == wrong.status_code == 401
    assert unconfirmed.get_json() == wrong.get_json()
    assert unconfirmed.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]
    # The refused log-in mailed the link again: two mails, either link works.
    token = mailed_token(mail_server, "confirm-address", count=2)
    confirmed = confirm(client, token)
    assert confirmed.status_code == 200, confirmed.get_json()
    assert log_in(client).status_code == 200


def test_confirming_needs_the_accounts_password(app, mail_server):
    client = app.test_client()
    register(client, confirmed=False)
    token = mailed_token(mail_server, "confirm-address")
    refused = confirm(client, token, password="not the password at all")
    assert refused.status_code == 403
    assert "reset its password" in refused.get_json()["error"]
    assert log_in(client).status_code == 401
    assert confirm(client, token).status_code == 200


def test_a_confirmation_link_works_once(app, mail_server):
    client = app.test_client()
    register(client, confirmed=False)
    token = mailed_token(mail_server, "confirm-address")
    assert confirm(client, token).status_code == 200
    again = confirm(client, token)
    assert again.status_code == 400
    assert "does not work" in again.get_json()["error"]


def test_a_confirmation_link_expires(app, mail_server, monkeypatch):
    client = app.test_client()
    register(client, confirmed=False)
    token = mailed_token(mail_server, "confirm-address")
    hours = app.config["EMAIL_VERIFICATION_HOURS"]
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + hours * 3600 + 5)
    assert confirm(client, token).status_code == 400


def test_a_reset_link_cannot_confirm_and_a_confirmation_link_cannot_reset(app, mail_server):
    client = app.test_client()
    register(client, confirmed=False)
    confirmation = mailed_token(mail_server, "confirm-address")
    request_reset(client)
    reset = mailed_token(mail_server, "reset-password")
    assert confirm(client, reset).status_code == 400
    assert choose_password(client, confirmation).status_code == 400


def test_the_resend_request_answers_the_same_and_mails_only_unconfirmed_accounts(app, mail_server):
    register(app.test_client(), email="done@example.com")
    register(app.test_client(), email="waiting@example.com", confirmed=False)
    mail_server.settle(app)
    mail_server.reset()
    answers = [
        app.test_client().post("/api/v1/auth/confirm/again", json={"email": email})
        for email in ("done@example.com", "waiting@example.com", "nobody@example.com")
    ]
    assert {answer.status_code for answer in answers} == {202}
    assert len({answer.get_data() for answer in answers}) == 1
    assert [m.recipients for m in mail_server.settle(app)] == [["waiting@example.com"]]


def test_a_reset_link_sets_a_new_password_and_ends_every_token(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    assert request_reset(client).status_code == 202
    token = mailed_token(mail_server, "reset-password")
    changed = choose_password(client, token)
    assert changed.status_code == 200, changed.get_json()
    # Every access and refresh token of the account ends.
    assert client.get("/api/v1/me", headers=bearer(issued["access_token"])).status_code == 401
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
    assert refresh.status_code == 401
    assert log_in(client).status_code == 401
    assert log_in(client, password=NEW_PASSWORD).status_code == 200
    notice = mail_server.wait_for(
        "ada@example.com", having=re.compile("password of your account was just changed")
    )[0]
    assert notice.message["Subject"] == "Your password was changed"


def test_the_reset_request_answers_the_same_for_known_and_unknown_addresses(app, mail_server):
    register(app.test_client())
    mail_server.settle(app)
    mail_server.reset()
    known = request_reset(app.test_client())
    unknown = request_reset(app.test_client(), email="nobody@example.com")
    assert known.status_code == unknown.status_code == 202
    assert known.get_data() == unknown.get_data()
    assert [m.recipients for m in mail_server.settle(app)] == [["ada@example.com"]]


def test_the_reset_mail_opens_the_client_app_with_one_link(app, mail_server):
    register(app.test_client())
    request_reset(app.test_client())
    token = mailed_token(mail_server, "reset-password")
    mail = next(m for m in mail_server.received() if "reset-password?token=" in m.text())
    html = mail.html()
    assert html.count("href=") == 1
    assert f'href="http://localhost:3000/reset-password?token={token}"' in html
    assert PASSWORD not in mail.message.as_string()


def test_a_reset_link_works_once_and_voids_the_others(app, mail_server, monkeypatch):
    client = app.test_client()
    register(client)
    request_reset(client)
    first = mailed_token(mail_server, "reset-password", count=1)
    # A second later, so the second link is not the first one again.
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + 1)
    request_reset(client)
    second = mailed_token(mail_server, "reset-password", count=2)
    assert first != second
    assert choose_password(client, second).status_code == 200
    assert choose_password(client, second, password="a third long password").status_code == 400
    assert choose_password(client, first, password="a third long password").status_code == 400
    assert log_in(client, password=NEW_PASSWORD).status_code == 200


def test_a_reset_link_expires(app, mail_server, monkeypatch):
    client = app.test_client()
    register(client)
    request_reset(client)
    token = mailed_token(mail_server, "reset-password")
    minutes = app.config["PASSWORD_RESET_MINUTES"]
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + minutes * 60 + 5)
    assert choose_password(client, token).status_code == 400
    assert log_in(client).status_code == 200


def test_two_uses_of_one_link_at_once_change_the_password_once(make_app, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="1000 per minute")
    register(app.test_client())
    request_reset(app.test_client())
    token = mailed_token(mail_server, "reset-password")
    barrier = threading.Barrier(4)
    statuses = []

    def use(password):
        barrier.wait()
        statuses.append(choose_password(app.test_client(), token, password).status_code)

    threads = [
        threading.Thread(target=use, args=(f"racing password number {n}",)) for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 400, 400, 400]


def _altered(token):
    """TOKEN with one character of its signed payload changed."""
    middle = len(token) // 4
    return token[:middle] + ("B" if token[middle] != "B" else "C") + token[middle + 1 :]


@pytest.mark.parametrize("mangle", [_altered, lambda t: "A" + t, lambda t: t + "A" * 600])
def test_a_forged_altered_or_oversized_token_opens_nothing(app, mail_server, mangle):
    client = app.test_client()
    register(client)
    request_reset(client)
    token = mailed_token(mail_server, "reset-password")
    assert choose_password(client, mangle(token)).status_code == 400
    assert choose_password(client, token).status_code == 200


def test_a_password_reset_confirms_the_address(app, mail_server):
    client = app.test_client()
    register(client, confirmed=False)
    request_reset(client)
    assert choose_password(client, mailed_token(mail_server, "reset-password")).status_code == 200
    assert log_in(client, password=NEW_PASSWORD).status_code == 200


def test_the_new_password_must_meet_the_policy(app, mail_server):
    client = app.test_client()
    register(client)
    request_reset(client)
    token = mailed_token(mail_server, "reset-password")
    common = choose_password(client, token, password="qwertyqwerty")
    assert common.status_code == 400
    assert "most common passwords" in common.get_json()["error"]
    own = choose_password(client, token, password="ada@example.com!")
    assert own.status_code == 400
    # The link still works for a good one.
    assert choose_password(client, token).status_code == 200


def test_mails_are_limited_per_address_without_telling(make_app, mail_server):
    app = make_app(migrated=True, ACCOUNT_MAIL_RATE_LIMIT="2 per hour")
    register(app.test_client(), confirmed=False)
    statuses = [request_reset(app.test_client()).status_code for _ in range(3)]
    assert statuses == [202, 202, 202]
    # The confirmation and one reset: the limit counts every mail to the address.
    assert len(mail_server.settle(app)) == 2


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/reset", {"email": "ada@example.com"}),
        ("/api/v1/auth/reset/new", {"token": "x", "password": NEW_PASSWORD}),
        ("/api/v1/auth/confirm", {"token": "x", "password": PASSWORD}),
        ("/api/v1/auth/confirm/again", {"email": "ada@example.com"}),
    ],
)
def test_link_requests_are_limited_per_client(make_app, mail_server, path, body):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    statuses = [client.post(path, json=body).status_code for _ in range(3)]
    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429


def test_link_events_are_logged_without_the_token_or_the_address(
    app, mail_server, caplog, monkeypatch
):
    # The app's logger does not propagate; listen to it for this test only.
    monkeypatch.setattr(app.logger, "handlers", [*app.logger.handlers, caplog.handler])
    client = app.test_client()
    register(client)
    request_reset(client)
    token = mailed_token(mail_server, "reset-password")
    choose_password(client, token)
    wait_until_done(app)
    events = [getattr(record, "event", None) for record in caplog.records]
    assert "password_reset_requested" in events
    assert "password_reset" in events
    # Every record whole, extra fields included: no token, no address in any spelling.
    logged = " ".join(str(record.__dict__) for record in caplog.records).lower()
    assert token.lower() not in logged
    assert "ada@example.com" not in logged


def test_purging_deletes_only_accounts_left_unconfirmed_too_long(app, mail_server):
    for email in ("old@example.com", "recent@example.com", "confirmed@example.com"):
        register(app.test_client(), email=email, confirmed=email.startswith("c"))
    # The app's own daily purge, started by the first request, is over: the command does this one.
    wait_until_done(app)
    long_ago = datetime.now(UTC) - timedelta(days=app.config["UNCONFIRMED_ACCOUNT_DAYS"] + 1)
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.email.in_(["old@example.com", "confirmed@example.com"]))
            .values(created_at=long_ago)
        )
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "purge-unconfirmed"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 account(s)" in result.output
    with app.app_context():
        left = set(db.session.scalars(select(User.email)))
    assert left == {"recent@example.com", "confirmed@example.com"}
