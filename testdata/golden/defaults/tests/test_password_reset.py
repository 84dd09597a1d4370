"""Password reset by a mailed link, against a real SMTP server (STARTTLS,
verified certificate): what the link opens, for how long, how often, and
what it ends."""

import re
import threading
import time

from itsdangerous import TimestampSigner
from sqlalchemy import select

from demo import password_reset
from demo.extensions import db
from demo.models import User

from .accounts import (
    NEW_PASSWORD,
    PASSWORD,
    change_password,
    choose_password,
    log_in,
    register,
    request_reset,
    reset_link,
)

UNKNOWN = "nobody@example.com"


def test_a_reset_link_sets_a_new_password_and_ends_every_session(app, csrf_token, mail_server):
    signed_in = app.test_client()
    register(signed_in, csrf_token)
    log_in(signed_in, csrf_token)
    assert signed_in.get("/account").status_code == 200

    stranger = app.test_client()
    assert request_reset(stranger, csrf_token).status_code == 200
    response = choose_password(stranger, csrf_token, reset_link(mail_server))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/auth/login")

    # The session from before the reset is over; only the new password opens the account.
    assert signed_in.get("/account").status_code == 302
    assert log_in(app.test_client(), csrf_token).status_code == 401
    fresh = app.test_client()
    assert log_in(fresh, csrf_token, password=NEW_PASSWORD).status_code == 302
    assert fresh.get("/account").status_code == 200
    # After the confirmation link from registration and the reset link.
    notice = mail_server.wait_for("ada@example.com", 3)[2]
    assert notice.message["Subject"] == "Your password was changed"
    assert "token=" not in notice.text()


def test_the_reset_form_answers_the_same_for_known_and_unknown_addresses(
    app, csrf_token, mail_server
):
    register(app.test_client(), csrf_token)
    known = request_reset(app.test_client(), csrf_token)
    unknown = request_reset(app.test_client(), csrf_token, email=UNKNOWN)
    assert known.status_code == unknown.status_code == 200
    assert known.get_data() == unknown.get_data()
    resets = [m for m in mail_server.settle(app) if m.message["Subject"] == "Reset your password"]
    assert [m.recipients for m in resets] == [["ada@example.com"]]


def test_the_reset_mail_holds_one_link_in_text_and_html(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    mail = next(m for m in mail_server.received() if "/auth/reset/new" in m.text())
    assert mail.sender == mail.message["From"] == "noreply@example.com"
    html = mail.html()
    assert html.count("href=") == 1
    assert "https://localhost" + link.replace("&", "&amp;") in html
    assert PASSWORD not in mail.message.as_string()


def test_a_reset_link_works_once(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    assert choose_password(app.test_client(), csrf_token, link).status_code == 302
    again = choose_password(app.test_client(), csrf_token, link, password="another long password")
    assert again.status_code == 400
    assert "This link does not work" in again.get_data(as_text=True)
    assert log_in(app.test_client(), csrf_token, password=NEW_PASSWORD).status_code == 302


def test_a_reset_link_expires(app, csrf_token, mail_server, monkeypatch):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    minutes = app.config["PASSWORD_RESET_MINUTES"]
    assert minutes == 30
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + (minutes - 1) * 60)
    assert app.test_client().get(link).status_code == 200
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now + minutes * 60 + 5)
    assert app.test_client().get(link).status_code == 400


def test_any_password_change_voids_every_outstanding_link(app, csrf_token, mail_server):
    client = app.test_client()
    register(client, csrf_token)
    request_reset(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    first, second = (reset_link(mail_server, count=n) for n in (1, 2))
    log_in(client, csrf_token)
    assert change_password(client, csrf_token).status_code == 302
    for link in (first, second):
        assert app.test_client().get(link).status_code == 400


def test_using_one_link_voids_the_others(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    # Links are stamped to the second: a second later, a different link.
    time.sleep(1.1)
    request_reset(app.test_client(), csrf_token)
    first, second = (reset_link(mail_server, count=n) for n in (1, 2))
    assert first != second
    assert choose_password(app.test_client(), csrf_token, second).status_code == 302
    assert app.test_client().get(first).status_code == 400


def test_two_uses_of_one_link_at_once_change_the_password_once(
    make_app, csrf_token, mail_server, monkeypatch
):
    app = make_app(migrated=True, PASSWORD_HASHING_WAIT_SECONDS=10)
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    passwords = ("the first new password", "the second new password")
    forms = []
    for password in passwords:
        client = app.test_client()
        page = client.get(link).get_data(as_text=True)
        token = re.search(r'name="token"[^>]*value="([^"]+)"', page).group(1)
        data = {"csrf_token": csrf_token(page), "token": token}
        forms.append((client, {**data, "password": password, "confirm": password}))
    # Both requests have checked the link before either stores its password.
    both_checked = threading.Barrier(2, timeout=10)
    real_hash = password_reset.hash_password

    def hash_once_both_checked(password):
        both_checked.wait()
        return real_hash(password)

    monkeypatch.setattr(password_reset, "hash_password", hash_once_both_checked)
    statuses = {}

    def submit(client, data):
        statuses[data["password"]] = client.post("/auth/reset/new", data=data).status_code

    threads = [threading.Thread(target=submit, args=form) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses.values()) == [302, 400]
    winner = next(p for p, status in statuses.items() if status == 302)
    loser = next(p for p in passwords if p != winner)
    assert log_in(app.test_client(), csrf_token, password=winner).status_code == 302
    assert log_in(app.test_client(), csrf_token, password=loser).status_code == 401


def test_a_forged_or_altered_link_opens_nothing(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    token = link.partition("token=")[2]
    altered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for bad in (altered, "", "x" * 600, token.split(".")[0]):
        assert app.test_client().get("/auth/reset/new?token=" + bad).status_code == 400


def test_reset_mails_are_limited_per_account_without_telling(make_app, csrf_token, mail_server):
    # The confirmation mail from registration counts too: two resets are left.
    app = make_app(migrated=True, ACCOUNT_MAIL_RATE_LIMIT="3 per hour")
    register(app.test_client(), csrf_token)
    # Each request from its own client address: only the account's limit applies.
    answers = [request_reset(app.test_client(), csrf_token) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].get_data() == answers[2].get_data()
    subjects = [m.message["Subject"] for m in mail_server.settle(app)]
    assert subjects.count("Reset your password") == 2


def test_reset_requests_are_limited_per_client(make_app, csrf_token, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [request_reset(client, csrf_token, email=UNKNOWN).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_the_new_password_must_meet_the_policy(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    link = reset_link(mail_server)
    short = choose_password(app.test_client(), csrf_token, link, password="short")
    assert short.status_code == 400
    assert "at least 12 characters" in short.get_data(as_text=True)
    common = choose_password(app.test_client(), csrf_token, link, password="qwertyqwerty")
    assert "most common passwords" in common.get_data(as_text=True)
    # Built on the account's address, which the form does not show.
    own = choose_password(app.test_client(), csrf_token, link, password="ada@example.com!")
    assert "built on your email address" in own.get_data(as_text=True)
    # The link still works after refused attempts.
    assert choose_password(app.test_client(), csrf_token, link).status_code == 302


def test_reset_events_are_logged_without_the_link_or_the_address(
    app, csrf_token, mail_server, caplog
):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token, email=UNKNOWN)
    link = reset_link(mail_server)
    choose_password(app.test_client(), csrf_token, link)
    mail_server.wait_for("ada@example.com", 3)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if sum(getattr(r, "event", None) == "mail_sent" for r in caplog.records) >= 2:
            break
        time.sleep(0.05)
    events = [getattr(r, "event", None) for r in caplog.records]
    for event in ("password_reset_requested", "password_reset_unknown", "password_reset"):
        assert event in events
    assert "mail_sent" in events
    token = link.partition("token=")[2]
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert token not in text
        assert NEW_PASSWORD not in text
        assert "ada@example.com" not in text
        assert UNKNOWN not in text
    with app.app_context():
        user_id = db.session.scalar(select(User)).id
    assert any(getattr(r, "user_id", None) == user_id for r in caplog.records)


def test_the_reset_pages_are_never_cached(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    request_reset(app.test_client(), csrf_token)
    page = app.test_client().get(reset_link(mail_server))
    assert page.headers["Cache-Control"] == "no-store"
    assert re.search(r'<form[^>]*action="/auth/reset/new"', page.get_data(as_text=True))
