"""Every signed-in session ends SESSION_IDLE_MINUTES (30) after its last
request and SESSION_HOURS (12) after log-in, however it is used, with any
cache choice: the times live in the session and are checked on each request."""

import time
from urllib.parse import unquote

import pytest

from .accounts import NEW_PASSWORD, PASSWORD, log_in, register


@pytest.fixture
def clock(app, monkeypatch):
    """The sessions' clock, moved by hand: clock.advance(minutes=...)."""

    class Clock:
        now = int(time.time())

        def advance(self, minutes=0, hours=0):
            self.now += int(minutes * 60 + hours * 3600)

    clock = Clock()
    monkeypatch.setattr(f"{app.import_name}.sessions._now", lambda: clock.now)
    return clock


def signed_in(app, csrf_token):
    register(app.test_client(), csrf_token)
    client = app.test_client()
    assert log_in(client, csrf_token).status_code == 302
    return client


def copy_of(app, client):
    copy = app.test_client()
    cookie = client.get_cookie("__Host-session")
    copy.set_cookie("__Host-session", cookie.value, domain="localhost", secure=True, path="/")
    return copy


def test_a_session_ends_after_30_idle_minutes(app, csrf_token, mail_server, clock, caplog):
    client = signed_in(app, csrf_token)
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=29)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=30)
    response = client.get("/account?tab=security")
    assert response.status_code == 302
    assert unquote(response.headers["Location"]) == "/auth/login?next=/account?tab=security"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session has ended after a while without activity" in page
    assert client.get("/account").status_code == 302
    ended = [r for r in caplog.records if getattr(r, "event", "") == "session_timed_out"]
    assert [r.reason for r in ended] == ["idle"]


def test_a_session_in_use_ends_12_hours_after_log_in(app, csrf_token, mail_server, clock):
    client = signed_in(app, csrf_token)
    for _ in range(12 * 60 // 20 - 1):
        clock.advance(minutes=20)
        assert client.get("/account").status_code == 200
    clock.advance(minutes=20)
    response = client.get("/account")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your session has ended after its longest allowed time" in page


def test_a_copied_cookie_kept_in_use_ends_with_its_session(app, csrf_token, mail_server, clock):
    client = signed_in(app, csrf_token)
    copy = copy_of(app, client)
    for _ in range(12 * 60 // 25):
        clock.advance(minutes=25)
        assert copy.get("/account").status_code == 200
    clock.advance(minutes=25)
    assert copy.get("/account").status_code == 302


def test_a_stale_copy_of_a_cookie_ends_even_while_its_session_is_used(
    app, csrf_token, mail_server, clock
):
    # The copy holds the last-seen time of when it was taken: the browser's
    # activity afterwards does not keep it alive (with a cache server the two
    # share one stored session, so the copy lives as long as the original).
    client = signed_in(app, csrf_token)
    copy = copy_of(app, client)
    clock.advance(minutes=20)
    assert client.get("/account").status_code == 200
    clock.advance(minutes=20)
    assert client.get("/account").status_code == 200
    shares_the_store = app.config.get("SESSION_TYPE") is not None
    assert copy.get("/account").status_code == (200 if shares_the_store else 302)


def test_a_posted_form_after_the_timeout_is_refused(app, csrf_token, mail_server, clock):
    client = signed_in(app, csrf_token)
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    clock.advance(minutes=31)
    response = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current": PASSWORD,
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login"
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Your session has ended after a while without activity" in page
    # The form was never handled: the password is unchanged.
    assert log_in(app.test_client(), csrf_token).status_code == 302


def test_a_session_from_before_the_timeouts_ends(app, csrf_token, mail_server):
    client = signed_in(app, csrf_token)
    with client.session_transaction() as session:
        del session["signed_in_at"]
    assert client.get("/account").status_code == 302


def test_session_times_ahead_of_the_clock_end_the_session(app, csrf_token, mail_server, clock):
    client = signed_in(app, csrf_token)
    clock.advance(minutes=-1.5)
    assert client.get("/account").status_code == 302


def test_activity_is_recorded_at_most_once_a_minute(app, csrf_token, mail_server, clock):
    client = signed_in(app, csrf_token)
    with client.session_transaction() as session:
        signed_in_at = session["seen_at"]
    clock.advance(minutes=0.5)
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] == signed_in_at
    clock.advance(minutes=0.5)
    assert client.get("/account").status_code == 200
    with client.session_transaction() as session:
        assert session["seen_at"] == signed_in_at + 60


@pytest.mark.parametrize(("idle", "hours"), [(5, 1), (60, 2)])
def test_the_timeouts_are_settings(make_app, csrf_token, mail_server, monkeypatch, idle, hours):
    app = make_app(migrated=True, SESSION_IDLE_MINUTES=idle, SESSION_HOURS=hours)
    now = [int(time.time())]
    monkeypatch.setattr(f"{app.import_name}.sessions._now", lambda: now[0])
    client = signed_in(app, csrf_token)
    now[0] += idle * 60 - 1
    assert client.get("/account").status_code == 200
    now[0] += idle * 60
    assert client.get("/account").status_code == 302
