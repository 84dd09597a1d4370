"""Security events: what happened to an account's security is stored with
the change, shown to its owner on the account page (newest first, with the
client address), kept from strangers, capped where anyone can cause it,
and deleted with the account."""

import importlib
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update

from .accounts import (
    NEW_PASSWORD,
    PASSWORD,
    change_password,
    choose_password,
    delete_account,
    log_in,
    register,
    request_reset,
    reset_link,
)

ADA = "ada@example.com"


def kinds(app, email=ADA):
    """The kinds of the account's events, oldest first, once every event
    queued so far has been stored (some are stored after the response)."""
    importlib.import_module(f"{app.import_name}.after_response").wait_until_done(app)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users, events = (db.metadata.tables[name] for name in ("users", "security_events"))
        return list(
            db.session.scalars(
                select(events.c.kind)
                .join(users, users.c.id == events.c.user_id)
                .where(users.c.email == email)
                .order_by(events.c.id)
            ).all()
        )


def activity(page):
    """The rows of the account page's activity table, as (what, from)."""
    html = page.get_data(as_text=True)
    rows = re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]*)</td></tr>", html)
    return rows


def test_changes_are_recorded_and_shown_to_the_owner(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token, password="not the password at all").status_code == 401
    # Stored after the response: waited for, so that the order below is sure.
    assert kinds(app) == ["login_failed"]
    assert log_in(client, csrf_token).status_code == 302
    assert change_password(client, csrf_token, current="still not the password").status_code == 401
    assert change_password(client, csrf_token).status_code == 302
    assert kinds(app) == [
        "login_failed",
        "login",
        "password_change_failed",
        "password_changed",
    ]
    rows = activity(client.get("/account"))
    assert [what for what, _ in rows] == [
        "Password changed",
        "Password change refused: wrong current password",
        "Logged in",
        "Log-in refused: wrong password",
    ]
    # One browser, one address (the test client gives each a loopback address of its own).
    (address,) = {client_address for _, client_address in rows}
    assert re.fullmatch(r"127\.\d+\.\d+\.\d+", address)


def test_reset_and_log_out_everywhere_are_recorded(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    assert request_reset(app.test_client(), csrf_token).status_code == 200
    # Stored after the response: waited for, so that the order below is sure.
    assert kinds(app) == ["password_reset_requested"]
    assert (
        choose_password(app.test_client(), csrf_token, reset_link(mail_server)).status_code == 302
    )
    client = app.test_client()
    assert log_in(client, csrf_token, password=NEW_PASSWORD).status_code == 302
    token = csrf_token(client.get("/account").get_data(as_text=True))
    assert client.post("/account/sessions/end", data={"csrf_token": token}).status_code == 302
    assert kinds(app) == [
        "password_reset_requested",
        "password_reset",
        "login",
        "sessions_ended",
    ]


def test_a_failed_log_in_is_recorded_for_a_known_address_only(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    known = log_in(app.test_client(), csrf_token, password="not the password at all")
    unknown = log_in(
        app.test_client(), csrf_token, email="nobody@example.com", password="not it either"
    )
    assert known.status_code == unknown.status_code == 401
    assert kinds(app) == ["login_failed"]
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        assert (
            db.session.scalar(
                select(func.count()).select_from(db.metadata.tables["security_events"])
            )
            == 1
        )


def test_events_anyone_can_cause_are_capped_per_hour(make_app, csrf_token, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", ACCOUNT_LOGIN_RATE_LIMIT="100 per minute"
    )
    register(app.test_client(), csrf_token)
    for _ in range(12):
        log_in(app.test_client(), csrf_token, password="not the password at all")
    assert kinds(app) == ["login_failed"] * 10
    # The owner's own changes are never capped.
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    assert kinds(app)[-1] == "login"


def test_an_account_keeps_its_newest_100_events(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    events = importlib.import_module(f"{app.import_name}.security_events")
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = db.metadata.tables["users"]
        user_id = db.session.scalar(select(users.c.id).where(users.c.email == ADA))
        for _ in range(104):
            events.record(user_id, "sessions_ended")
        events.record(user_id, "password_changed")
        db.session.commit()
    assert kinds(app) == ["sessions_ended"] * 99 + ["password_changed"]


def test_unconfirmed_accounts_purged_take_their_events(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token, confirmed=False)
    log_in(app.test_client(), csrf_token, password="not the password at all")
    assert kinds(app) == ["login_failed"]
    # The app's own daily purge, started by the first request, is over: the command does this one.
    importlib.import_module(f"{app.import_name}.after_response").wait_until_done(app)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = db.metadata.tables["users"]
        db.session.execute(update(users).values(created_at=datetime.now(UTC) - timedelta(days=8)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "purge-unconfirmed"])
    assert "deleted 1 account(s)" in result.output
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        table = db.metadata.tables["security_events"]
        assert db.session.scalar(select(func.count()).select_from(table)) == 0


def test_an_account_sees_only_its_own_events(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    register(app.test_client(), csrf_token, email="bob@example.com")
    log_in(app.test_client(), csrf_token, password="not the password at all")
    bob = app.test_client()
    assert log_in(bob, csrf_token, email="bob@example.com").status_code == 302
    kinds(app)
    assert [what for what, _ in activity(bob.get("/account"))] == ["Logged in"]


def test_deleting_the_account_deletes_its_events(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    assert delete_account(client, csrf_token).status_code == 302
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        table = db.metadata.tables["security_events"]
        assert db.session.scalar(select(func.count()).select_from(table)) == 0


def test_events_older_than_90_days_go_with_the_next_one(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users, events = (db.metadata.tables[name] for name in ("users", "security_events"))
        user_id = db.session.scalar(select(users.c.id).where(users.c.email == ADA))
        db.session.execute(
            insert(events).values(
                user_id=user_id, kind="login", created_at=datetime.now(UTC) - timedelta(days=91)
            )
        )
        db.session.commit()
    assert kinds(app) == ["login", "login"]
    # Not shown even before a newer event trims it.
    assert [what for what, _ in activity(client.get("/account"))] == ["Logged in"]
    assert change_password(client, csrf_token).status_code == 302
    assert kinds(app) == ["login", "password_changed"]


def test_events_are_logged_without_the_address(app, csrf_token, mail_server, caplog):
    register(app.test_client(), csrf_token)
    client = app.test_client()
    log_in(client, csrf_token, password="not the password at all")
    log_in(client, csrf_token)
    change_password(client, csrf_token)
    stored = set(kinds(app))
    logged = {getattr(r, "event", None): r for r in caplog.records}
    for kind in stored:
        assert kind in logged
        assert getattr(logged[kind], "user_id", None) is not None
        text = logged[kind].getMessage() + repr(vars(logged[kind]))
        assert ADA not in text and PASSWORD not in text


def test_every_kind_of_event_is_described_on_the_account_page(app):
    kinds_known = importlib.import_module(f"{app.import_name}.security_events").KINDS
    source, _, _ = app.jinja_loader.get_source(app.jinja_env, "main/account.html")
    described = set(re.findall(r'^\s+"([a-z_]+)": "', source, re.MULTILINE))
    assert described == kinds_known


def _all_events(app):
    importlib.import_module(f"{app.import_name}.after_response").wait_until_done(app)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        events = db.metadata.tables["security_events"]
        return db.session.execute(select(events.c.user_id, events.c.kind)).all()


def test_refusals_of_a_signed_in_accounts_requests_are_recorded(make_app, csrf_token, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="2 per minute")
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    # A form posted without its CSRF token (another site's, or an old page's).
    assert client.post("/auth/logout").status_code == 400
    # Too many current-password guesses.
    guesses = [change_password(client, csrf_token, current=f"guess {i}") for i in range(3)]
    assert guesses[-1].status_code == 429
    # A host name the app does not serve, with the account's session cookie.
    # (A client without a cookie jar: the jar would drop cookies of another host.)
    session = client.get_cookie("__Host-session").value
    foreign = app.test_client(use_cookies=False).get(
        "/account", headers={"Host": "evil.example", "Cookie": f"__Host-session={session}"}
    )
    assert foreign.status_code == 400
    _all_events(app)
    assert {"csrf_failed", "rate_limited", "host_refused"} <= set(kinds(app))
    shown = [what for what, _ in activity(client.get("/account"))]
    assert "Requests refused: too many in a short time" in shown
    assert "Request refused: sent to a host name this site does not serve" in shown


def test_refusals_without_a_signed_in_account_are_only_logged(make_app, csrf_token, mail_server):
    app = make_app(migrated=True)
    register(app.test_client(), csrf_token)
    stranger = app.test_client()
    assert stranger.post("/auth/logout").status_code == 400
    assert stranger.get("/account", headers={"Host": "evil.example"}).status_code == 400
    assert _all_events(app) == []


def test_an_account_keeps_only_the_newest_refusal_of_each_kind(make_app, csrf_token, mail_server):
    app = make_app(migrated=True)
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    for _ in range(5):
        assert client.post("/auth/logout").status_code == 400
    _all_events(app)
    # The log-in is still in view: refusals cannot push it out.
    assert kinds(app) == ["login", "csrf_failed"]
    assert [what for what, _ in activity(client.get("/account"))] == [
        "Request refused: no valid CSRF token (an old page, or another site)",
        "Logged in",
    ]
