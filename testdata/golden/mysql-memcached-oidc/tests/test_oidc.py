"""Log-in through OpenID Connect: code flow with PKCE S256, state and nonce
checked, ID token validated against the provider's keys, local user record
created then updated, log-out clears the session and ends the provider's."""

from urllib.parse import quote

import pytest
import requests
from joserfc import jwt
from sqlalchemy import delete, func, select

from staff_portal.extensions import db
from staff_portal.models import User

from .oidc_provider import CLIENT_ID, TAMPERING, s256
from .signin import at_provider, finish, query_of, sign_in, start


def log_out(client, csrf_token):
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post("/auth/logout", data={"csrf_token": token})


def test_sign_in_creates_the_user_and_opens_the_account(client, provider, app):
    response = sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Ada Lovelace" in page.get_data(as_text=True)
    with app.app_context():
        user = db.session.scalar(select(User))
        assert (user.issuer, user.subject) == (provider.issuer, "user-1")
        assert user.email == "ada@example.com"
        assert user.last_login_at is not None


def test_authorization_request_uses_pkce_s256_state_and_nonce(client, provider):
    params = query_of(start(client))
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == "https://localhost/auth/callback"
    assert "openid" in params["scope"].split()
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 20
    assert len(params["nonce"]) >= 20
    assert len(params["code_challenge"]) == 43


def test_the_token_request_proves_the_pkce_verifier(client, provider):
    challenge = query_of(start(client))["code_challenge"]
    client.get("/")  # a second page view changes nothing
    sign_in(client)
    verifier = provider.token_requests[-1]["code_verifier"]
    assert 43 <= len(verifier) <= 128
    assert s256(verifier) == provider.authorize_requests[-1]["code_challenge"]
    assert challenge != provider.authorize_requests[-1]["code_challenge"]  # fresh per attempt


def test_a_second_sign_in_updates_the_same_user(client, provider, app, csrf_token):
    sign_in(client)
    log_out(client, csrf_token)
    provider.user.update(email="ada@new.example", name="Ada King")
    assert sign_in(client).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
        user = db.session.scalar(select(User))
        assert (user.email, user.name) == ("ada@new.example", "Ada King")


def test_an_unverified_email_is_not_stored(client, provider, app):
    provider.user["email_verified"] = False
    assert sign_in(client).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User)).email is None


def test_a_callback_with_a_forged_state_is_refused(client, provider):
    callback = at_provider(start(client))
    response = finish(client, callback.replace("state=", "state=forged"))
    assert response.status_code == 401
    assert client.get("/account").status_code == 302


def test_a_callback_without_a_log_in_started_here_is_refused(client, provider, make_app):
    # Login CSRF: a code obtained in the attacker's browser, replayed in the victim's.
    callback = at_provider(start(client))
    victim = make_app(migrated=True).test_client()
    assert finish(victim, callback).status_code == 401
    assert victim.get("/account").status_code == 302


@pytest.mark.parametrize("tamper", TAMPERING)
def test_a_bad_id_token_is_refused(client, provider, app, tamper, caplog):
    provider.tamper = tamper
    response = sign_in(client)
    assert response.status_code == 401
    assert "Log-in failed" in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User)) is None
    assert "login_failed" in [getattr(r, "event", None) for r in caplog.records]


def test_provider_errors_are_refused(client, provider):
    start(client)
    response = client.get("/auth/callback?error=access_denied&state=x")
    assert response.status_code == 401


def test_log_out_clears_the_session(client, provider, csrf_token):
    sign_in(client)
    assert client.get("/account").status_code == 200
    assert client.post("/auth/logout").status_code == 400  # CSRF token required
    response = log_out(client, csrf_token)
    assert response.status_code == 302
    assert client.get("/account").status_code == 302


def test_session_is_renewed_at_log_in(client, provider):
    start(client)
    before = client.get_cookie("__Host-session")
    sign_in(client)
    after = client.get_cookie("__Host-session")
    assert before is not None and after is not None
    assert before.value != after.value


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_no_open_redirect_after_log_in(client, provider, target):
    assert sign_in(client, "?next=" + target).headers["Location"] == "/account"


def test_local_next_is_followed(client, provider):
    assert sign_in(client, "?next=/account").headers["Location"] == "/account"


def test_account_needs_log_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


def test_repeated_log_in_attempts_get_429(make_app, provider):
    client = make_app(migrated=True, LOGIN_RATE_LIMIT="3 per minute").test_client()
    statuses = [client.get("/auth/login").status_code for _ in range(4)]
    assert statuses == [302, 302, 302, 429]


def test_log_out_ends_the_session_at_the_provider(client, provider, csrf_token):
    sign_in(client)
    response = log_out(client, csrf_token)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(provider.issuer + "/logout?")
    params = query_of(location)
    assert params["client_id"] == CLIENT_ID
    assert params["post_logout_redirect_uri"] == "https://localhost/"
    # The hint is the ID token this log-in received, signed by the provider.
    claims = jwt.decode(params["id_token_hint"], provider.key).claims
    assert (claims["sub"], claims["aud"]) == ("user-1", CLIENT_ID)
    assert client.get("/account").status_code == 302
    # The provider ends its session and sends the browser back to the app.
    back = requests.get(location, allow_redirects=False, timeout=5)
    assert back.status_code == 302
    assert back.headers["Location"] == "https://localhost/"
    assert provider.logout_requests[-1]["id_token_hint"] == params["id_token_hint"]


def test_log_out_stays_local_without_an_end_session_endpoint(client, provider, csrf_token):
    provider.offers_end_session = False
    sign_in(client)
    response = log_out(client, csrf_token)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert client.get("/account").status_code == 302
    assert provider.logout_requests == []


def test_an_unreachable_provider_gets_a_clear_503(make_app, environ, caplog):
    # Nothing listens on port 9 of this machine (discard), as when `make idp` is not
    # running. Not migrated: Alembic's logging set-up would detach caplog.
    app = make_app({**environ, "OIDC_ISSUER": "http://127.0.0.1:9"})
    response = app.test_client().get("/auth/login")
    assert response.status_code == 503
    assert "cannot be reached" in response.get_data(as_text=True)
    assert "login_provider_unreachable" in [getattr(r, "event", None) for r in caplog.records]


def test_the_nonce_has_at_least_128_bits(client, provider):
    nonce = query_of(start(client))["nonce"]
    # URL-safe base64: 6 bits a character.
    assert len(nonce) * 6 >= 128


@pytest.mark.parametrize(
    "issuer", ["https://evil.example", "{issuer}/", "{issuer}/other", "{issuer_upper}"]
)
def test_a_discovery_document_naming_another_issuer_is_refused(client, provider, caplog, issuer):
    provider.discovery_issuer = issuer.format(
        issuer=provider.issuer, issuer_upper=provider.issuer.upper()
    )
    response = client.get("/auth/login")
    assert response.status_code == 503
    assert "misconfigured" in response.get_data(as_text=True)
    assert provider.authorize_requests == []
    events = [getattr(r, "event", None) for r in caplog.records]
    assert "login_provider_misconfigured" in events
    # Once the provider is right again, log-in works.
    provider.discovery_issuer = None
    assert sign_in(client).status_code == 302


@pytest.mark.parametrize(
    "target",
    # A NUL anywhere in a request gets 400 before any view (tests/test_limits.py).
    ["/account\x07", "/account\r\nSet-Cookie: x=1", "/acc\tount", "/account\u2028", "/a b"],
)
def test_control_characters_in_next_are_ignored(client, provider, target):
    response = sign_in(client, "?next=" + quote(target))
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"


def test_a_deleted_accounts_session_opens_nothing(app, provider):
    old = app.test_client()
    sign_in(old)
    assert old.get("/account").status_code == 200
    with app.app_context():
        db.session.execute(delete(User))
        db.session.commit()
    provider.user.update(sub="user-2", email="grace@example.com", name="Grace Hopper")
    newcomer = app.test_client()
    sign_in(newcomer)
    assert "Grace Hopper" in newcomer.get("/account").get_data(as_text=True)
    # The old session must not open the account created after it.
    assert old.get("/account").status_code == 302


def test_a_session_ends_after_30_idle_minutes_and_12_hours_after_log_in(
    client, provider, app, monkeypatch
):
    now = [1_900_000_000]
    monkeypatch.setattr(f"{app.import_name}.sessions._now", lambda: now[0])
    assert sign_in(client).status_code == 302
    now[0] += 29 * 60
    assert client.get("/account").status_code == 200
    now[0] += 30 * 60
    response = client.get("/account")
    assert response.status_code == 302
    # Not to log-in: the provider would sign an unattended browser straight back in.
    assert response.headers["Location"] == "/"
    assert "Your session has ended after a while without activity" in client.get("/").get_data(
        as_text=True
    )
    assert sign_in(client).status_code == 302
    for _ in range(12 * 60 // 20 - 1):
        now[0] += 20 * 60
        assert client.get("/account").status_code == 200
    now[0] += 20 * 60
    assert client.get("/account").status_code == 302


def test_log_out_after_a_timeout_still_ends_the_session_at_the_provider(
    client, provider, app, csrf_token, monkeypatch
):
    now = [1_900_000_000]
    monkeypatch.setattr(f"{app.import_name}.sessions._now", lambda: now[0])
    sign_in(client)
    token = csrf_token(client.get("/account").get_data(as_text=True))
    now[0] += 31 * 60
    response = client.post("/auth/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith(provider.issuer + "/logout?")
    assert client.get("/account").status_code == 302


def test_session_times_ahead_of_the_clock_end_the_session(client, provider, app, monkeypatch):
    now = [1_900_000_000]
    monkeypatch.setattr(f"{app.import_name}.sessions._now", lambda: now[0])
    sign_in(client)
    now[0] -= 61
    assert client.get("/account").status_code == 302
