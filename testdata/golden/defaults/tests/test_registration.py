"""Registration that tells nobody which addresses have accounts, and address
confirmation by a mailed link, against a real SMTP server."""

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from itsdangerous import TimestampSigner
from sqlalchemy import select, update

from demo.after_response import (
    wait_until_done,
)
from demo.extensions import db
from demo.models import User

from .accounts import (
    NEW_PASSWORD,
    PASSWORD,
    choose_password,
    confirmation_link,
    log_in,
    register,
    request_reset,
    reset_link,
)


def confirm(client, csrf_token, link, password=PASSWORD):
    page = client.get(link)
    if page.status_code != 200:
        return page
    html = page.get_data(as_text=True)
    token = link.partition("token=")[2]
    return client.post(
        "/auth/confirm",
        data={"csrf_token": csrf_token(html), "token": token, "password": password},
    )


def test_registration_answers_the_same_for_a_new_and_a_taken_address(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    taken = register(app.test_client(), csrf_token, email="ADA@example.com", confirmed=False)
    new = register(app.test_client(), csrf_token, email="grace@example.com", confirmed=False)
    assert taken.status_code == new.status_code == 200
    # The page names the address it was given, and nothing else differs.
    assert taken.get_data(as_text=True).replace("ada@example.com", "X") == new.get_data(
        as_text=True
    ).replace("grace@example.com", "X")
    # Each owner hears of it; the one who asked learns nothing.
    grace = mail_server.wait_for("grace@example.com")[0]
    assert grace.message["Subject"] == "Confirm your email address"
    notices = [m for m in mail_server.settle(app) if m.recipients == ["ada@example.com"]]
    assert [m.message["Subject"] for m in notices] == [
        "Confirm your email address",
        "Someone tried to register with your address",
    ]
    assert "token=" not in notices[1].text()
    # The taken account keeps its password.
    assert log_in(app.test_client(), csrf_token).status_code == 302


# One mailbox, two spellings: a composed "é" (U+00E9) and "e" with a
# combining acute (U+0301); a domain in Unicode and in its "xn--" form; and
# in ASCII and with a full-width letter.
SPELLINGS = [
    ("zo\u00e9@example.com", "zoe\u0301@example.com"),
    ("ada@stra\u00dfe.de", "Ada@XN--STRAE-OQA.DE"),
    ("grace@example.org", "grace@\uff45xample.org"),
]


@pytest.mark.parametrize(("address", "twin"), SPELLINGS)
def test_an_address_typed_with_decomposed_letters_is_the_same_address(
    app, csrf_token, mail_server, address, twin
):
    register(app.test_client(), csrf_token, email=address)
    again = register(app.test_client(), csrf_token, email=twin, confirmed=False)
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == [address]
    # Its owner hears of the attempt, as for any taken address.
    notice = mail_server.wait_for(address, 2)[1]
    assert notice.message["Subject"] == "Someone tried to register with your address"
    # And logs in with the address typed either way.
    assert log_in(app.test_client(), csrf_token, email=twin).status_code == 302


def test_an_account_logs_in_once_its_address_is_confirmed(app, csrf_token, mail_server):
    client = app.test_client()
    register(client, csrf_token, confirmed=False)
    assert log_in(client, csrf_token).status_code == 401
    link = confirmation_link(mail_server)
    # Opening the link (as a mail scanner would) confirms nothing; the form does.
    assert client.get(link).status_code == 200
    assert log_in(client, csrf_token).status_code == 401
    response = confirm(client, csrf_token, link)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")
    assert log_in(client, csrf_token).status_code == 302


def test_log_in_does_not_tell_a_free_address_from_a_taken_one(app, csrf_token, mail_server):
    # Register a taken and a free address with a password of one's choosing,
    # then try it: both refusals read alike.
    register(app.test_client(), csrf_token)
    chosen = "a password of my choosing"
    for email in ("ada@example.com", "grace@example.com"):
        register(app.test_client(), csrf_token, email=email, password=chosen, confirmed=False)
    taken, free = (
        log_in(app.test_client(), csrf_token, email=email, password=chosen)
        for email in ("ada@example.com", "grace@example.com")
    )
    assert taken.status_code == free.status_code == 401

    def page(response, email):
        # The form keeps the address typed in, and each client has its own CSRF token.
        html = response.get_data(as_text=True).replace(email, "X")
        return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)

    assert page(taken, "ada@example.com") == page(free, "grace@example.com")
    # The owner of the unconfirmed account gets the link again.
    assert confirmation_link(mail_server, "grace@example.com", count=2)


def test_confirming_needs_the_accounts_password(app, csrf_token, mail_server):
    # Someone registered ada's address; ada follows the link but does not know
    # that password, so the account stays unconfirmed and unusable.
    register(app.test_client(), csrf_token, confirmed=False)
    link = confirmation_link(mail_server)
    refused = confirm(app.test_client(), csrf_token, link, password="ada's own password")
    assert refused.status_code == 401
    assert "reset its password instead" in refused.get_data(as_text=True)
    assert log_in(app.test_client(), csrf_token).status_code == 401
    assert confirm(app.test_client(), csrf_token, link).status_code == 302


def test_a_confirmation_link_works_once(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token, confirmed=False)
    link = confirmation_link(mail_server)
    assert confirm(app.test_client(), csrf_token, link).status_code == 302
    again = confirm(app.test_client(), csrf_token, link)
    assert again.status_code == 400
    assert "This link does not work" in again.get_data(as_text=True)


def test_a_confirmation_link_expires(app, csrf_token, mail_server, monkeypatch):
    register(app.test_client(), csrf_token, confirmed=False)
    link = confirmation_link(mail_server)
    hours = app.config["EMAIL_VERIFICATION_HOURS"]
    assert hours == 24
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + hours * 3600 - 60)
    assert app.test_client().get(link).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + hours * 3600 + 5)
    assert app.test_client().get(link).status_code == 400


def test_a_reset_link_cannot_confirm_and_a_confirmation_link_cannot_reset(
    app, csrf_token, mail_server
):
    register(app.test_client(), csrf_token, confirmed=False)
    link = confirmation_link(mail_server)
    token = link.partition("token=")[2]
    assert app.test_client().get("/auth/reset/new?token=" + token).status_code == 400
    request_reset(app.test_client(), csrf_token)
    reset = reset_link(mail_server)
    assert (
        app.test_client().get("/auth/confirm?token=" + reset.partition("token=")[2]).status_code
        == 400
    )


def test_the_resend_form_answers_the_same_and_mails_only_unconfirmed_accounts(
    app, csrf_token, mail_server
):
    register(app.test_client(), csrf_token, confirmed=False)
    register(app.test_client(), csrf_token, email="grace@example.com")
    mail_server.settle(app)
    mail_server.reset()
    answers = []
    for email in ("ada@example.com", "grace@example.com", "nobody@example.com"):
        client = app.test_client()
        page = client.get("/auth/confirm/again").get_data(as_text=True)
        response = client.post(
            "/auth/confirm/again", data={"csrf_token": csrf_token(page), "email": email}
        )
        answers.append((response.status_code, response.get_data(as_text=True).replace(email, "X")))
    assert answers[0] == answers[1] == answers[2]
    assert [m.recipients for m in mail_server.settle(app)] == [["ada@example.com"]]
    assert confirm(app.test_client(), csrf_token, confirmation_link(mail_server)).status_code == 302


def test_a_password_reset_confirms_the_address(app, csrf_token, mail_server):
    # Whoever registered someone else's address cannot keep it from them:
    # its owner resets the password through the mail, which confirms it.
    register(app.test_client(), csrf_token, confirmed=False)
    request_reset(app.test_client(), csrf_token)
    assert (
        choose_password(app.test_client(), csrf_token, reset_link(mail_server)).status_code == 302
    )
    assert log_in(app.test_client(), csrf_token, password=NEW_PASSWORD).status_code == 302
    assert log_in(app.test_client(), csrf_token, password=PASSWORD).status_code == 401


def test_registration_mails_are_limited_per_address(make_app, csrf_token, mail_server):
    app = make_app(migrated=True, ACCOUNT_MAIL_RATE_LIMIT="2 per hour")
    statuses = [
        register(app.test_client(), csrf_token, confirmed=False).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    assert len(mail_server.settle(app)) == 2


def test_purging_deletes_only_accounts_left_unconfirmed_too_long(app, csrf_token, mail_server):
    for email in ("old@example.com", "recent@example.com", "confirmed@example.com"):
        register(app.test_client(), csrf_token, email=email, confirmed=email.startswith("c"))
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
