"""Security events of provider accounts: log-ins, log out everywhere, refused
deletions and refused requests of the account's session are stored and
shown on the account page (newest first, with the client address), kept from
other accounts, and deleted with the account."""

import html
import re

from sqlalchemy import select

from staff_portal import security_events
from staff_portal.after_response import (
    wait_until_done,
)
from staff_portal.extensions import db
from staff_portal.models import SecurityEvent

from .signin import at_provider, finish, sign_in


def activity(page):
    """The rows of the account page's activity table, as (what, from)."""
    html = page.get_data(as_text=True)
    return re.findall(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>([^<]*)</td></tr>", html)


def kinds(app):
    wait_until_done(app)
    with app.app_context():
        return list(db.session.scalars(select(SecurityEvent.kind).order_by(SecurityEvent.id)))


def post_from_account_page(client, csrf_token, path):
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token})


def ask_for_deletion(client, csrf_token):
    page = post_from_account_page(client, csrf_token, "/account/delete").get_data(as_text=True)
    link = re.search(r'<a class="reauthenticate" href="([^"]+)"', page)
    return html.unescape(link.group(1))


def test_log_ins_and_account_events_are_recorded_and_shown_newest_first(
    client, app, provider, csrf_token
):
    sign_in(client)
    post_from_account_page(client, csrf_token, "/account/sessions/end")
    sign_in(client)
    provider.auth_time_mode = "again"
    finish(client, at_provider(ask_for_deletion(client, csrf_token)))
    assert kinds(app) == ["login", "sessions_ended", "login", "account_deletion_failed"]
    rows = activity(client.get("/account"))
    assert [what for what, _ in rows] == [
        "Account deletion refused: no new log-in at the sign-in service",
        "Logged in",
        "Logged out everywhere",
        "Logged in",
    ]
    assert all(client_address for _, client_address in rows)


def test_refusals_of_a_signed_in_accounts_requests_are_recorded(make_app, provider, csrf_token):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="1 per minute")
    client = app.test_client()
    sign_in(client)
    assert client.post("/account/sessions/end").status_code == 400
    session = client.get_cookie("__Host-session").value
    # (A client without a cookie jar: the jar would drop cookies of another host.)
    foreign = app.test_client(use_cookies=False).get(
        "/account", headers={"Host": "evil.example", "Cookie": f"__Host-session={session}"}
    )
    assert foreign.status_code == 400
    token = csrf_token(client.get("/account").get_data(as_text=True))
    for _ in range(2):
        asked = client.post("/account/delete", data={"csrf_token": token})
    assert asked.status_code == 429
    assert {"csrf_failed", "host_refused", "rate_limited"} <= set(kinds(app))


def test_refusals_without_a_signed_in_account_are_only_logged(make_app, provider):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="1 per minute")
    sign_in(app.test_client())
    client = app.test_client()
    assert client.post("/account/sessions/end").status_code == 400
    assert client.get("/account", headers={"Host": "evil.example"}).status_code == 400
    # Past the per-client log-in limit, without a session.
    assert [client.get("/auth/login").status_code for _ in range(2)] == [302, 429]
    assert kinds(app) == ["login"]


def test_an_account_sees_only_its_own_events(client, app, provider):
    sign_in(client)
    other = app.test_client()
    provider.user.update(sub="user-2", email="grace@example.com", name="Grace Hopper")
    sign_in(other)
    assert [what for what, _ in activity(client.get("/account"))] == ["Logged in"]
    assert [what for what, _ in activity(other.get("/account"))] == ["Logged in"]


def test_deleting_the_account_deletes_its_events(client, app, provider, csrf_token):
    sign_in(client)
    finish(client, at_provider(ask_for_deletion(client, csrf_token)))
    assert kinds(app) == []


def test_every_kind_of_event_is_described_on_the_account_page(app):
    source, _, _ = app.jinja_loader.get_source(app.jinja_env, "main/account.html")
    described = set(re.findall(r'^\s+"([a-z_]+)": "', source, re.MULTILINE))
    assert described == security_events.KINDS
