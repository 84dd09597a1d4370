"""Log-in attempts are limited per account across every client address, and
the owner is not locked out: browsers that have logged in to the account
(device cookies), and browsers let in by the mailed link or a password
reset, keep their own allowance (login_throttle.py)."""

import importlib
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from .accounts import (
    EMAIL,
    NEW_PASSWORD,
    choose_password,
    log_in,
    log_out,
    log_out_everywhere,
    mailed_link,
    register,
    request_reset,
    reset_link,
)

LIMIT = "3 per 15 minutes"
DEVICE = "__Host-device"
ADA = "ada@example.com"


@pytest.fixture
def app(make_app):
    # Per client, far more than the test needs: only the per-account limit acts.
    return make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", ACCOUNT_LOGIN_RATE_LIMIT=LIMIT
    )


def guess(app, csrf_token, email=EMAIL, times=3):
    """Wrong passwords, each from a new browser at a new client address."""
    return [
        log_in(app.test_client(), csrf_token, email=email, password=f"guess number {i}").status_code
        for i in range(times)
    ]


def owners_browser(app, csrf_token):
    """A browser that has logged in to the account, and logged out again."""
    browser = app.test_client()
    assert log_in(browser, csrf_token).status_code == 302
    assert browser.get_cookie(DEVICE) is not None
    log_out(browser, csrf_token)
    return browser


def without_csrf(html):
    return re.sub(r'name="csrf_token"[^>]*value="[^"]+"', "", html)


def test_clients_at_many_addresses_share_one_allowance_per_account(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    assert guess(app, csrf_token, times=5) == [401, 401, 401, 429, 429]
    # Held back unheard: not even the right password is checked.
    held = log_in(app.test_client(), csrf_token)
    assert held.status_code == 429
    assert "held back for a while" in held.get_data(as_text=True)
    # Another account is not affected.
    register(app.test_client(), csrf_token, email="bob@example.com")
    assert log_in(app.test_client(), csrf_token, email="bob@example.com").status_code == 302


def test_an_address_without_an_account_is_held_back_alike(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    assert guess(app, csrf_token, times=4) == guess(app, csrf_token, "nobody@example.com", 4)
    pages = [
        without_csrf(log_in(app.test_client(), csrf_token, email=email).get_data(as_text=True))
        for email in (ADA, "nobody@example.com")
    ]
    assert pages[0].replace(ADA, "nobody@example.com") == pages[1]


def test_the_owners_browser_logs_in_while_strangers_are_held_back(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    browser = owners_browser(app, csrf_token)
    guess(app, csrf_token)
    assert log_in(app.test_client(), csrf_token).status_code == 429
    assert log_in(browser, csrf_token).status_code == 302


def test_a_recognised_browser_has_an_allowance_of_its_own(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    browser = owners_browser(app, csrf_token)
    for i in range(3):
        assert log_in(browser, csrf_token, password=f"typo {i}").status_code == 401
    # Its failures were its own: strangers still have their allowance...
    assert log_in(app.test_client(), csrf_token, password="a stranger's guess").status_code == 401
    # ...and once its own is spent it counts as a stranger.
    guess(app, csrf_token, times=2)
    assert log_in(browser, csrf_token).status_code == 429


def test_a_forged_or_another_accounts_device_cookie_counts_as_a_stranger(
    app, csrf_token, mail_server
):
    register(app.test_client(), csrf_token)
    register(app.test_client(), csrf_token, email="bob@example.com")
    bobs = app.test_client()
    assert log_in(bobs, csrf_token, email="bob@example.com").status_code == 302
    log_out(bobs, csrf_token)
    guess(app, csrf_token)
    assert log_in(bobs, csrf_token).status_code == 429

    serializer = importlib.import_module(f"{app.import_name}.security").Sha256TimedSerializer
    with app.app_context():
        users = app.extensions["sqlalchemy"].metadata.tables["users"]
        ada_id = app.extensions["sqlalchemy"].session.scalar(
            users.select().with_only_columns(users.c.id).where(users.c.email == ADA)
        )
    forged = app.test_client()
    value = serializer("not this app's key", salt="device-cookie").dumps([ada_id, "nonce"])
    forged.set_cookie(DEVICE, value, domain="localhost", secure=True)
    assert log_in(forged, csrf_token).status_code == 429


def test_the_device_cookie_is_httponly_secure_and_names_no_address(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    response = log_in(app.test_client(), csrf_token)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(DEVICE))
    cookie = SimpleCookie(header)[DEVICE]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["max-age"] == str(180 * 24 * 3600)
    # The signed payload (before the timestamp and signature) names no address.
    payload = URLSafeSerializer("only decoding").load_payload(
        cookie.value.rsplit(".", 2)[0].encode()
    )
    assert len(payload) == 4 and "example.com" not in json.dumps(payload)
    # Given after a full log-in: its device has an allowance of its own for two-factor codes.
    assert payload[3] == 1
    # A failed log-in gives no cookie.
    failed = log_in(app.test_client(), csrf_token, password="not the password")
    assert not any(h.startswith(DEVICE) for h in failed.headers.getlist("Set-Cookie"))


def test_the_lock_mails_the_owner_a_link_that_lets_a_browser_in(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    guess(app, csrf_token, times=5)
    link = mailed_link(mail_server, "/auth/recognise", ADA, 1)
    browser = app.test_client()
    page = browser.get(link)
    assert page.status_code == 200
    # Opening the link (a mail scanner does) changes nothing.
    assert browser.get_cookie(DEVICE) is None
    assert log_in(browser, csrf_token).status_code == 429
    page = browser.get(link)
    token = parse_qs(urlsplit(link).query)["token"][0]
    pressed = browser.post(
        "/auth/recognise",
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "token": token},
    )
    assert pressed.status_code == 302 and pressed.headers["Location"].endswith("/auth/login")
    assert log_in(browser, csrf_token).status_code == 302
    # One lock, one mail (and the two attempts past it mailed nothing more).
    mails = mail_server.settle(app)
    assert sum("/auth/recognise" in m.text() for m in mails if ADA in m.recipients) == 1
    # The password is still needed.
    log_out(browser, csrf_token)
    assert log_in(browser, csrf_token, password="still a guess").status_code == 401


def test_the_link_is_refused_when_forged_or_after_a_password_change(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    guess(app, csrf_token)
    link = mailed_link(mail_server, "/auth/recognise", ADA, 1)
    browser = app.test_client()
    assert browser.get(link[:-3] + "abc").status_code == 400
    request_reset(app.test_client(), csrf_token)
    link_to_reset = reset_link(mail_server)
    assert choose_password(app.test_client(), csrf_token, link_to_reset).status_code == 302
    assert browser.get(link).status_code == 400


def test_a_password_reset_lets_its_browser_in(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    guess(app, csrf_token)
    browser = app.test_client()
    request_reset(browser, csrf_token)
    assert choose_password(browser, csrf_token, reset_link(mail_server)).status_code == 302
    assert log_in(browser, csrf_token, password=NEW_PASSWORD).status_code == 302
    # Strangers are still held back, new password or not.
    assert log_in(app.test_client(), csrf_token, password=NEW_PASSWORD).status_code == 429


def test_the_lock_is_a_security_event_and_a_log_line(app, csrf_token, mail_server, caplog):
    register(app.test_client(), csrf_token)
    browser = owners_browser(app, csrf_token)
    guess(app, csrf_token, times=4)
    assert log_in(browser, csrf_token).status_code == 302
    events = importlib.import_module(f"{app.import_name}.after_response")
    events.wait_until_done(app)
    page = browser.get("/account").get_data(as_text=True)
    assert "Log-ins from unrecognised browsers held back" in page
    locks = [r for r in caplog.records if getattr(r, "event", None) == "login_locked"]
    assert len(locks) == 1
    # No part of the address ("ada" alone could be in the random hex request id).
    assert "ada@" not in repr(vars(locks[0])).lower()
    assert "example.com" not in repr(vars(locks[0])).lower()


def test_without_rate_limits_nothing_is_held_back(make_app, csrf_token, mail_server):
    app = make_app(migrated=True, RATELIMIT_ENABLED=False, ACCOUNT_LOGIN_RATE_LIMIT=LIMIT)
    register(app.test_client(), csrf_token)
    assert guess(app, csrf_token, times=5) == [401] * 5
    assert log_in(app.test_client(), csrf_token).status_code == 302


def test_every_limit_of_the_setting_counts(make_app, csrf_token, mail_server):
    app = make_app(
        migrated=True,
        LOGIN_RATE_LIMIT="100 per minute",
        ACCOUNT_LOGIN_RATE_LIMIT="5 per 15 minutes; 3 per day",
    )
    register(app.test_client(), csrf_token)
    assert guess(app, csrf_token, times=4) == [401, 401, 401, 429]


def test_every_spelling_of_the_address_shares_one_allowance(app, csrf_token, mail_server):
    zoe = "zo\u00eb@example.com"
    register(app.test_client(), csrf_token, email=zoe)
    spellings = ["ZO\u00cb@example.com", "zoe\u0308@example.com", "Zo\u00eb@EXAMPLE.com"]
    assert [guess(app, csrf_token, spelling, 1)[0] for spelling in spellings] == [401] * 3
    assert log_in(app.test_client(), csrf_token, email=zoe).status_code == 429


def test_attempts_count_before_the_password_is_checked(app, csrf_token, mail_server):
    """Right passwords count too: a request cannot pass the check while
    others still wait for their password to be verified."""
    register(app.test_client(), csrf_token)
    assert [log_in(app.test_client(), csrf_token).status_code for _ in range(4)] == [
        302,
        302,
        302,
        429,
    ]


def test_a_password_reset_elsewhere_voids_every_device_cookie(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    browser = owners_browser(app, csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    assert choose_password(app.test_client(), csrf_token, link).status_code == 302
    guess(app, csrf_token)
    assert log_in(browser, csrf_token, password=NEW_PASSWORD).status_code == 429


def test_log_out_everywhere_voids_the_others_and_renews_its_own(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    other = owners_browser(app, csrf_token)
    browser = app.test_client()
    assert log_in(browser, csrf_token).status_code == 302
    assert log_out_everywhere(browser, csrf_token).status_code == 302
    guess(app, csrf_token)
    assert log_in(other, csrf_token).status_code == 429
    assert log_in(browser, csrf_token).status_code == 302
