"""Security events through the API: what happened to an account's security
is stored with the change, listed to its owner (newest first, with the
client address), kept from other accounts, capped where anyone can cause
it, and deleted with the account."""

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from orders_api import security_events
from orders_api.after_response import (
    wait_until_done,
)
from orders_api.extensions import db
from orders_api.models import (
    SecurityEvent,
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


def listed(client, access_token):
    response = client.get("/api/v1/me/security-events", headers=bearer(access_token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["events"]


def kinds_stored(app):
    """The kinds of every stored event, oldest first, once every event queued
    so far has been stored (some are stored after the response)."""
    wait_until_done(app)
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)))


def test_changes_are_recorded_and_listed_to_the_owner(app, mail_server):
    client = app.test_client()
    register(client)
    assert log_in(client, password="not the password at all").status_code == 401
    kinds_stored(app)
    issued = log_in(client).get_json()
    wrong = client.post(
        "/api/v1/me/password",
        json={"current_password": "still not it", "password": NEW_PASSWORD},
        headers=bearer(issued["access_token"]),
    )
    assert wrong.status_code == 403
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
        headers=bearer(issued["access_token"]),
    )
    assert changed.status_code == 200
    events = listed(client, changed.get_json()["access_token"])
    assert [event["kind"] for event in events] == [
        "password_changed",
        "password_change_failed",
        "login",
        "login_failed",
    ]
    # The client address as the app saw it: this test client's, on every event.
    assert len({event["client"] for event in events}) == 1
    assert events[0]["client"].startswith("127.")
    assert events[0]["description"] == "Password changed"
    for event in events:
        assert datetime.fromisoformat(event["time"]).tzinfo is not None
        assert abs((datetime.now(UTC) - datetime.fromisoformat(event["time"])).total_seconds()) < 60


def test_resets_address_changes_and_log_out_everywhere_are_recorded(app, mail_server):
    client = app.test_client()

    def post(path, body, access_token=None):
        headers = bearer(access_token) if access_token else {}
        return client.post(path, json=body, headers=headers).status_code

    register(client, confirmed=False)
    confirmation = mailed_token(mail_server, "confirm-address")
    assert post("/api/v1/auth/confirm", {"token": confirmation, "password": PASSWORD}) == 200
    post("/api/v1/auth/reset", {"email": "ada@example.com"})
    # Stored after the response: waited for, so that the order below is sure.
    wait_until_done(app)
    reset = mailed_token(mail_server, "reset-password")
    assert post("/api/v1/auth/reset/new", {"token": reset, "password": NEW_PASSWORD}) == 200
    access = log_in(client, password=NEW_PASSWORD).get_json()["access_token"]
    new_address = {"password": NEW_PASSWORD, "email": "grace@example.com"}
    assert post("/api/v1/me/email", new_address, access) == 202
    change = mailed_token(mail_server, "confirm-new-address", email="grace@example.com")
    assert post("/api/v1/auth/email/confirm", {"token": change, "password": NEW_PASSWORD}) == 200
    access = log_in(client, "grace@example.com", NEW_PASSWORD).get_json()["access_token"]
    assert post("/api/v1/me/log-out-everywhere", {}, access) == 204
    wait_until_done(app)
    assert kinds_stored(app) == [
        "address_confirmed",
        "password_reset_requested",
        "password_reset",
        "login",
        "address_change_requested",
        "address_changed",
        "login",
        "sessions_ended",
    ]


def test_a_failed_log_in_is_recorded_for_a_known_address_only(app, mail_server):
    register(app.test_client())
    known = log_in(app.test_client(), password="not the password at all")
    unknown = log_in(app.test_client(), email="nobody@example.com", password="not it either")
    assert known.status_code == unknown.status_code == 401
    wait_until_done(app)
    assert kinds_stored(app) == ["login_failed"]


def test_a_registration_with_a_taken_address_is_recorded_for_its_owner(app, mail_server):
    register(app.test_client())
    register(app.test_client(), email="ADA@example.com", password="another long password")
    wait_until_done(app)
    assert kinds_stored(app) == ["register_taken"]


def test_events_anyone_can_cause_are_capped_per_hour(make_app, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", ACCOUNT_LOGIN_RATE_LIMIT="100 per minute"
    )
    register(app.test_client())
    for _ in range(12):
        log_in(app.test_client(), password="not the password at all")
    wait_until_done(app)
    assert kinds_stored(app) == ["login_failed"] * 10
    # The owner's own log-in is never capped.
    assert log_in(app.test_client()).status_code == 200
    assert kinds_stored(app)[-1] == "login"


def test_an_account_sees_only_its_own_events(app, mail_server):
    register(app.test_client())
    log_in(app.test_client(), password="not the password at all")
    client = app.test_client()
    bob = tokens(client, email="bob@example.com")
    assert sorted(kinds_stored(app)) == ["login", "login_failed"]
    assert [event["kind"] for event in listed(client, bob["access_token"])] == ["login"]
    ada = log_in(app.test_client()).get_json()
    assert [event["kind"] for event in listed(client, ada["access_token"])] == [
        "login",
        "login_failed",
    ]


def test_events_need_a_valid_access_token(app, mail_server):
    client = app.test_client()
    for headers in ({}, bearer("not-a-token")):
        response = client.get("/api/v1/me/security-events", headers=headers)
        assert response.status_code == 401


def test_deleting_the_account_deletes_its_events(app, mail_server):
    tokens(app.test_client(), email="bob@example.com")
    client = app.test_client()
    issued = tokens(client)
    headers = bearer(issued["access_token"])
    refused = client.post("/api/v1/me/delete", json={"password": "not it"}, headers=headers)
    assert refused.status_code == 403
    assert kinds_stored(app) == ["login", "login", "account_deletion_failed"]
    deleted = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=headers)
    assert deleted.status_code == 204
    # Bob's log-in stays.
    assert kinds_stored(app) == ["login"]


def test_a_refused_address_change_is_recorded(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    refused = client.post(
        "/api/v1/me/email",
        json={"password": "not it", "email": "grace@example.com"},
        headers=bearer(issued["access_token"]),
    )
    assert refused.status_code == 403
    assert kinds_stored(app) == ["login", "address_change_failed"]


def test_unconfirmed_accounts_purged_take_their_events(app, mail_server):
    register(app.test_client(), confirmed=False)
    log_in(app.test_client(), password="not the password at all")
    again = "another long password"
    register(app.test_client(), email="ADA@example.com", password=again, confirmed=False)
    # The app's own daily purge, started by the first request, is over: the command does this one.
    wait_until_done(app)
    assert kinds_stored(app) == ["login_failed", "register_taken"]
    with app.app_context():
        db.session.execute(update(User).values(created_at=datetime.now(UTC) - timedelta(days=8)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["users", "purge-unconfirmed"])
    assert "deleted 1 account(s)" in result.output
    assert kinds_stored(app) == []


def test_every_kind_of_event_has_a_description():
    assert set(security_events.DESCRIPTIONS) == security_events.KINDS


def test_events_are_logged_without_the_address(app, mail_server, caplog, monkeypatch):
    # The app's logger does not propagate; listen to it for this test only.
    monkeypatch.setattr(app.logger, "handlers", [*app.logger.handlers, caplog.handler])
    client = app.test_client()
    tokens(client)
    log_in(client, password="not the password at all")
    wait_until_done(app)
    logged = " ".join(str(record.__dict__) for record in caplog.records).lower()
    assert re.search(r"'event': 'login'", logged)
    assert "ada@example.com" not in logged


def test_refusals_of_requests_with_the_accounts_token_are_recorded(make_app, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    issued = tokens(client)
    wrong = {"current_password": "not the password at all", "password": NEW_PASSWORD}
    statuses = [
        client.post("/api/v1/me/password", json=wrong, headers=bearer(issued["access_token"]))
        for _ in range(3)
    ]
    assert [answer.status_code for answer in statuses] == [403, 403, 429]
    foreign = client.get(
        "/api/v1/me", headers={"Host": "evil.example", **bearer(issued["access_token"])}
    )
    assert foreign.status_code == 400
    wait_until_done(app)
    assert {"rate_limited", "host_refused"} <= set(kinds_stored(app))
    kinds_listed = [event["kind"] for event in listed(client, issued["access_token"])]
    assert {"rate_limited", "host_refused"} <= set(kinds_listed)


def test_refusals_without_a_valid_token_are_only_logged(make_app, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    issued = tokens(client)
    ended = tokens(app.test_client(), email="grace@example.com")
    ending = client.post(
        "/api/v1/me/log-out-everywhere", json={}, headers=bearer(ended["access_token"])
    )
    assert ending.status_code == 204
    forged = issued["access_token"][:-4] + "AAAA"
    # No token, a forged one, and one its account ended (checked in the database).
    statuses = []
    for headers in ({}, bearer(forged), bearer(ended["access_token"])):
        for _ in range(2):
            answer = client.post("/api/v1/me/delete", json={"password": PASSWORD}, headers=headers)
            statuses.append(answer.status_code)
        foreign = client.get("/api/v1/me", headers={"Host": "evil.example", **headers})
        statuses.append(foreign.status_code)
    assert statuses == [401, 429, 400, 429, 429, 400, 429, 429, 400]
    wait_until_done(app)
    assert sorted(kinds_stored(app)) == ["login", "login", "sessions_ended"]
