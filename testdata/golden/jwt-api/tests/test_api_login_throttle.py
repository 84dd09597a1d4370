"""Log-in attempts through the API are limited per account across every
client address, and the owner is not locked out: clients that have logged
in to the account (device tokens), and clients let in by the mailed link or
a password reset, keep their own allowance (login_throttle.py)."""

import json
import logging

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import select

from orders_api.after_response import (
    wait_until_done,
)
from orders_api.extensions import db
from orders_api.models import User
from orders_api.security import (
    Sha256TimedSerializer,
)

from .accounts import (
    EMAIL,
    NEW_PASSWORD,
    PASSWORD,
    bearer,
    log_in,
    mailed_token,
    register,
)

LIMIT = "3 per 15 minutes"
ADA = "ada@example.com"


@pytest.fixture
def app(make_app):
    # Per client, far more than the test needs: only the per-account limit acts.
    return make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", ACCOUNT_LOGIN_RATE_LIMIT=LIMIT
    )


def guess(app, email=EMAIL, times=3):
    """Wrong passwords, each from a new client at a new address."""
    return [log_in(app.test_client(), email, f"guess number {i}").status_code for i in range(times)]


def owners_device(app) -> str:
    """The device token of a client that has logged in to the account."""
    response = log_in(app.test_client())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["device_token"]


def reset_by_mail(app, mail_server, count=1):
    client = app.test_client()
    assert client.post("/api/v1/auth/reset", json={"email": ADA}).status_code == 202
    token = mailed_token(mail_server, "reset-password", count=count)
    return client.post("/api/v1/auth/reset/new", json={"token": token, "password": NEW_PASSWORD})


def test_clients_at_many_addresses_share_one_allowance_per_account(app, mail_server):
    register(app.test_client())
    assert guess(app, times=5) == [401, 401, 401, 429, 429]
    # Held back unheard: not even the right password is checked.
    held = log_in(app.test_client())
    assert held.status_code == 429
    assert "held back for a while" in held.get_json()["error"]
    # Another account is not affected.
    register(app.test_client(), email="bob@example.com")
    assert log_in(app.test_client(), email="bob@example.com").status_code == 200


def test_an_address_without_an_account_is_held_back_alike(app, mail_server):
    register(app.test_client())
    assert guess(app, times=4) == guess(app, "nobody@example.com", 4)
    answers = [log_in(app.test_client(), email) for email in (ADA, "nobody@example.com")]
    assert answers[0].get_json() == answers[1].get_json()
    assert answers[0].headers.get("WWW-Authenticate") == answers[1].headers.get("WWW-Authenticate")


def test_the_owners_device_logs_in_while_strangers_are_held_back(app, mail_server):
    register(app.test_client())
    device = owners_device(app)
    guess(app)
    assert log_in(app.test_client()).status_code == 429
    # Any client that presents the device token: an app keeps it like a cookie.
    assert log_in(app.test_client(), device_token=device).status_code == 200


def test_a_recognised_device_has_an_allowance_of_its_own(app, mail_server):
    register(app.test_client())
    device = owners_device(app)
    for i in range(3):
        typo = log_in(app.test_client(), password=f"typo {i}", device_token=device)
        assert typo.status_code == 401
    # Its failures were its own: strangers still have their allowance...
    assert log_in(app.test_client(), password="a stranger's guess").status_code == 401
    # ...and once its own is spent it counts as a stranger.
    guess(app, times=2)
    assert log_in(app.test_client(), device_token=device).status_code == 429


def test_a_forged_or_another_accounts_device_token_counts_as_a_stranger(app, mail_server):
    register(app.test_client())
    register(app.test_client(), email="bob@example.com")
    bobs = log_in(app.test_client(), email="bob@example.com").get_json()["device_token"]
    guess(app)
    assert log_in(app.test_client(), device_token=bobs).status_code == 429
    with app.app_context():
        ada_id = db.session.scalar(select(User.id).where(User.email == ADA))
    forged = Sha256TimedSerializer(["not this app's key"], "device-cookie").dumps(
        [ada_id, "nonce", "mark"]
    )
    assert log_in(app.test_client(), device_token=forged).status_code == 429
    # Too long to be ours: a stranger too, not an error.
    assert log_in(app.test_client(), device_token="x" * 600).status_code == 429
    # Not a string: refused by the body's schema before any password is checked.
    answer = app.test_client().post(
        "/api/v1/auth/token", json={"email": ADA, "password": PASSWORD, "device_token": [1]}
    )
    assert answer.get_json() == {"error": "device_token: Input should be a valid string."}


def test_only_a_log_in_gives_a_device_token_and_it_names_no_address(app, mail_server):
    register(app.test_client())
    client = app.test_client()
    answer = log_in(client).get_json()
    # The signed payload (before the timestamp and signature) names no address.
    payload = URLSafeSerializer("only decoding").load_payload(
        answer["device_token"].rsplit(".", 2)[0].encode()
    )
    assert len(payload) == 4 and "example.com" not in json.dumps(payload)
    # Given after a full log-in: its device has an allowance of its own for two-factor codes.
    assert payload[3] == 1
    assert "device_token" not in log_in(app.test_client(), password="not it").get_json()
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": answer["refresh_token"]})
    assert refreshed.status_code == 200 and "device_token" not in refreshed.get_json()


def test_the_lock_mails_the_owner_a_link_that_lets_a_device_in(app, mail_server):
    register(app.test_client())
    guess(app, times=5)
    token = mailed_token(mail_server, "recognise-device")
    recognised = app.test_client().post("/api/v1/auth/recognise", json={"token": token})
    assert recognised.status_code == 200
    device = recognised.get_json()["device_token"]
    assert log_in(app.test_client(), device_token=device).status_code == 200
    # One lock, one mail (and the two attempts past it mailed nothing more).
    mails = mail_server.settle(app)
    assert sum("/recognise-device?" in m.text() for m in mails if ADA in m.recipients) == 1
    # The password is still needed.
    guessed = log_in(app.test_client(), password="still a guess", device_token=device)
    assert guessed.status_code == 401


def test_the_link_is_refused_when_forged_or_after_a_password_change(app, mail_server):
    register(app.test_client())
    guess(app)
    token = mailed_token(mail_server, "recognise-device")
    recognise = app.test_client().post
    forged = recognise("/api/v1/auth/recognise", json={"token": token[:-3] + "abc"})
    assert forged.status_code == 400 and "device_token" not in forged.get_json()
    assert reset_by_mail(app, mail_server).status_code == 200
    assert recognise("/api/v1/auth/recognise", json={"token": token}).status_code == 400


def test_a_password_reset_lets_its_device_in(app, mail_server):
    register(app.test_client())
    guess(app)
    reset = reset_by_mail(app, mail_server)
    assert reset.status_code == 200
    device = reset.get_json()["device_token"]
    assert log_in(app.test_client(), password=NEW_PASSWORD, device_token=device).status_code == 200
    # Strangers are still held back, new password or not.
    assert log_in(app.test_client(), password=NEW_PASSWORD).status_code == 429


def test_the_lock_is_a_security_event_and_a_log_line(app, mail_server, caplog):
    caplog.set_level(logging.INFO)
    register(app.test_client())
    device = owners_device(app)
    guess(app, times=4)
    answer = log_in(app.test_client(), device_token=device)
    assert answer.status_code == 200
    wait_until_done(app)
    listed = app.test_client().get(
        "/api/v1/me/security-events", headers=bearer(answer.get_json()["access_token"])
    )
    assert "login_locked" in [event["kind"] for event in listed.get_json()["events"]]
    locks = [r for r in caplog.records if getattr(r, "event", None) == "login_locked"]
    assert len(locks) == 1
    # No part of the address ("ada" alone could be in the random hex request id).
    assert "ada@" not in repr(vars(locks[0])).lower()
    assert "example.com" not in repr(vars(locks[0])).lower()


def test_without_rate_limits_nothing_is_held_back(make_app, mail_server):
    app = make_app(migrated=True, RATELIMIT_ENABLED=False, ACCOUNT_LOGIN_RATE_LIMIT=LIMIT)
    register(app.test_client())
    assert guess(app, times=5) == [401] * 5
    assert log_in(app.test_client()).status_code == 200


def test_every_limit_of_the_setting_counts(make_app, mail_server):
    app = make_app(
        migrated=True,
        LOGIN_RATE_LIMIT="100 per minute",
        ACCOUNT_LOGIN_RATE_LIMIT="5 per 15 minutes; 3 per day",
    )
    register(app.test_client())
    assert guess(app, times=4) == [401, 401, 401, 429]


def test_every_spelling_of_the_address_shares_one_allowance(app, mail_server):
    zoe = "zo\u00eb@example.com"
    register(app.test_client(), email=zoe)
    spellings = ["ZO\u00cb@example.com", "zoe\u0308@example.com", "Zo\u00eb@EXAMPLE.com"]
    assert [guess(app, spelling, 1)[0] for spelling in spellings] == [401] * 3
    assert log_in(app.test_client(), email=zoe).status_code == 429


def test_attempts_count_before_the_password_is_checked(app, mail_server):
    """Right passwords count too: a request cannot pass the check while
    others still wait for their password to be verified."""
    register(app.test_client())
    statuses = [log_in(app.test_client()).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_a_password_change_voids_the_others_and_renews_its_own(app, mail_server):
    register(app.test_client())
    other = owners_device(app)
    client = app.test_client()
    answer = log_in(client).get_json()
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
        headers=bearer(answer["access_token"]),
    )
    assert changed.status_code == 200
    renewed = changed.get_json()["device_token"]
    assert renewed != answer["device_token"]
    guess(app)
    assert log_in(app.test_client(), password=NEW_PASSWORD, device_token=other).status_code == 429
    assert log_in(app.test_client(), password=NEW_PASSWORD, device_token=renewed).status_code == 200


def test_log_out_everywhere_voids_every_device_token(app, mail_server):
    register(app.test_client())
    answer = log_in(app.test_client()).get_json()
    ended = app.test_client().post(
        "/api/v1/me/log-out-everywhere", json={}, headers=bearer(answer["access_token"])
    )
    assert ended.status_code in {200, 204}
    guess(app, times=2)
    assert log_in(app.test_client(), device_token=answer["device_token"]).status_code == 429


def test_an_address_change_voids_the_others_and_renews_its_own(app, mail_server):
    register(app.test_client())
    answer = log_in(app.test_client()).get_json()
    asked = app.test_client().post(
        "/api/v1/me/email",
        json={"password": PASSWORD, "email": "grace@example.com"},
        headers=bearer(answer["access_token"]),
    )
    assert asked.status_code == 202
    token = mailed_token(mail_server, "confirm-new-address", email="grace@example.com")
    confirmed = app.test_client().post(
        "/api/v1/auth/email/confirm", json={"token": token, "password": PASSWORD}
    )
    assert confirmed.status_code == 200
    renewed = confirmed.get_json()["device_token"]
    guess(app, "grace@example.com", times=3)
    grace = "grace@example.com"
    voided = log_in(app.test_client(), grace, device_token=answer["device_token"])
    assert voided.status_code == 429
    assert log_in(app.test_client(), grace, device_token=renewed).status_code == 200
