"""The account API: register, exchange a password for tokens, call with the
access token, rotate and revoke refresh tokens."""

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from orders_api.extensions import db
from orders_api.models import (
    RefreshToken,
    User,
)
from orders_api.stored_times import as_utc
from orders_api.tokens import (
    SCOPES,
    issue_refresh_token,
)

from .accounts import EMAIL, PASSWORD, bearer, log_in, register, tokens


def test_register_then_call_the_api_with_a_token(client, app):
    response = register(client)
    assert response.status_code == 202
    assert "Check your mail" in response.get_json()["message"]
    with app.app_context():
        assert PASSWORD not in db.session.scalar(select(User)).password_hash

    issued = log_in(client, email="ada@example.com ").get_json()
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 15 * 60
    me = client.get("/api/v1/me", headers=bearer(issued["access_token"]))
    assert me.status_code == 200
    assert me.get_json()["email"] == "ada@example.com"


def test_token_responses_are_not_cached(client):
    register(client)
    response = log_in(client)
    assert response.headers["Cache-Control"] == "no-store"


def test_wrong_password_and_unknown_email_get_the_same_401(client):
    register(client)
    wrong = log_in(client, password="not the password at all")
    unknown = log_in(client, email="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_short_password_is_refused(client):
    response = register(client, password="short")
    assert response.status_code == 400
    assert "at least 12" in response.get_json()["error"]


def test_a_common_password_or_one_built_on_the_address_is_refused(client):
    common = register(client, password="qwertyqwerty")
    assert common.status_code == 400
    assert "one of the most common passwords" in common.get_json()["error"]
    own = register(client, email="ada.lovelace@example.com", password="Ada.Lovelace1815")
    assert own.status_code == 400
    assert "built on your email address" in own.get_json()["error"]


@pytest.mark.parametrize(
    ("address", "twin"),
    [
        # A composed "é" (U+00E9), and "e" with a combining acute (U+0301).
        ("zo\u00e9@example.com", "zoe\u0301@example.com"),
        # A domain in Unicode and in its "xn--" form; with a full-width letter.
        ("ada@stra\u00dfe.de", "Ada@XN--STRAE-OQA.DE"),
        ("grace@example.org", "grace@\uff45xample.org"),
    ],
)
def test_an_address_typed_with_decomposed_letters_is_the_same_address(client, app, address, twin):
    assert register(client, email=twin).status_code == 202
    assert register(client, email=address).status_code == 202
    with app.app_context():
        assert db.session.scalars(select(User.email)).all() == [address]
    assert log_in(client, email=address).status_code == 200
    assert log_in(client, email=twin).status_code == 200


def test_an_invalid_email_is_refused(client):
    assert register(client, email="not an email").status_code == 400


def test_a_taken_email_makes_no_second_account(client, app):
    register(client)
    again = register(client, email="ADA@example.com", password="another long password")
    assert again.status_code == 202
    assert log_in(client, password="another long password").status_code == 401
    with app.app_context():
        assert len(db.session.scalars(select(User)).all()) == 1


@pytest.mark.parametrize(
    ("header", "status"),
    [
        (None, 401),
        ("", 401),
        ("Basic YTpi", 401),
        ("Token abc", 401),
        ("Bearer", 400),
        ("Bearer ", 400),
    ],
)
def test_the_api_needs_a_bearer_token(client, header, status):
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/api/v1/me", headers=headers)
    # No bearer credentials: 401; a bearer scheme without a token: malformed, 400.
    assert response.status_code == status
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")


def test_a_session_cookie_is_not_a_credential(client):
    # Cookie-free authentication is what makes the CSRF exemption safe.
    tokens(client)
    assert client.get("/api/v1/me").status_code == 401


def test_api_writes_need_no_csrf_token_but_must_be_json(client):
    assert register(client).status_code == 202  # JSON, no CSRF token: accepted
    form = client.post("/api/v1/auth/token", data={"email": EMAIL, "password": PASSWORD})
    assert form.status_code == 415  # what an HTML form on another site can send
    text = client.post("/api/v1/auth/token", data="{}", headers={"Content-Type": "text/plain"})
    assert text.status_code == 415


def test_csrf_still_protects_the_rest_of_the_app(make_app):
    app = make_app()

    @app.post("/probe/form")
    def form():
        return "changed"

    assert app.test_client().post("/probe/form", data={"x": "y"}).status_code == 400


@pytest.mark.parametrize(
    "body", [[], {"email": EMAIL}, {"email": 1, "password": PASSWORD}, {"password": ""}]
)
def test_malformed_bodies_are_refused(client, body):
    response = client.post("/api/v1/auth/token", json=body)
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_refresh_rotates_the_refresh_token(client):
    first = tokens(client)
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status_code == 200
    second = response.get_json()
    assert second["refresh_token"] != first["refresh_token"]
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 200


def test_a_reused_refresh_token_revokes_the_whole_family(client):
    first = tokens(client)
    second = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    ).get_json()
    # The first token comes back: someone kept a copy.
    replay = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # Its successor, held by whoever refreshed first, is dead too.
    after = client.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert after.status_code == 401


def test_revoking_logs_out(client):
    issued = tokens(client)
    revoked = client.post("/api/v1/auth/revoke", json={"refresh_token": issued["refresh_token"]})
    assert revoked.status_code == 204
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
    assert refused.status_code == 401
    # Unknown tokens get the same answer.
    assert client.post("/api/v1/auth/revoke", json={"refresh_token": "x"}).status_code == 204


def test_refresh_tokens_are_stored_as_digests(client, app):
    issued = tokens(client)
    with app.app_context():
        stored = db.session.scalar(select(RefreshToken))
        assert stored.token_hash != issued["refresh_token"]
        assert len(stored.token_hash) == 64


def test_an_expired_refresh_token_is_refused(make_app):
    client = make_app(migrated=True, JWT_REFRESH_DAYS=0).test_client()
    issued = tokens(client)
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
    assert response.status_code == 401


def test_a_log_in_ends_jwt_session_days_after_it_however_often_it_is_refreshed(make_app):
    app = make_app(migrated=True, JWT_SESSION_DAYS=1)
    client = app.test_client()
    presented = tokens(client)["refresh_token"]
    for _ in range(2):
        refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": presented})
        assert refreshed.status_code == 200
        presented = refreshed.get_json()["refresh_token"]
    with app.app_context():
        family = db.session.scalars(select(RefreshToken)).all()
        ends = {as_utc(token.family_expires_at) for token in family}
        # Every token of the log-in keeps its end, one day after it (not 14 from each refresh).
        assert len(family) == 3 and len(ends) == 1
        (end,) = ends
        assert end <= datetime.now(UTC) + timedelta(days=1)
        assert all(as_utc(token.expires_at) <= end for token in family)
        db.session.execute(
            update(RefreshToken).values(family_expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        db.session.commit()
    refused = client.post("/api/v1/auth/refresh", json={"refresh_token": presented})
    assert refused.status_code == 401


def test_too_many_token_requests_get_429(make_app):
    client = make_app(migrated=True, LOGIN_RATE_LIMIT="3 per minute").test_client()
    statuses = [log_in(client, password=f"wrong password {i}").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_auth_events_are_logged_without_secrets(client, caplog):
    issued = tokens(client)
    log_in(client, password="wrong password, surely")
    events = [getattr(r, "event", None) for r in caplog.records]
    assert {"register", "login", "login_failed"} <= set(events)
    for record in caplog.records:
        text = record.getMessage() + repr(vars(record))
        assert PASSWORD not in text
        assert issued["access_token"] not in text
        assert issued["refresh_token"] not in text


def _refresh(client, refresh_token: str):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def test_a_deleted_accounts_tokens_open_nothing(client, app):
    old = tokens(client)
    with app.app_context():
        db.session.execute(delete(User))
        db.session.commit()
    newcomer = tokens(client, email="grace@example.com")
    assert client.get("/api/v1/me", headers=bearer(newcomer["access_token"])).status_code == 200
    # Nothing issued to the deleted account opens the one created after it.
    assert client.get("/api/v1/me", headers=bearer(old["access_token"])).status_code == 401
    assert _refresh(client, old["refresh_token"]).status_code == 401


def test_ids_are_never_reused(app):
    with app.app_context():
        first = User(email="first@example.com", password_hash="x")
        db.session.add(first)
        db.session.commit()
        first_id = first.id
        db.session.delete(first)
        db.session.commit()
        second = User(email="second@example.com", password_hash="x")
        db.session.add(second)
        db.session.commit()
        assert second.id > first_id


def test_deleting_a_user_deletes_its_refresh_tokens(client, app):
    tokens(client)
    with app.app_context():
        db.session.execute(delete(User))
        db.session.commit()
        assert db.session.scalar(select(RefreshToken)) is None


THREADS = 10
TRIALS = 20


def _race(app, refresh_token: str) -> Counter:
    """Present one refresh token from THREADS clients at the same moment."""
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    clients = [app.test_client() for _ in range(THREADS)]

    def present(client) -> None:
        barrier.wait()
        statuses.append(_refresh(client, refresh_token).status_code)

    threads = [threading.Thread(target=present, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Counter(statuses)


def test_concurrent_refreshes_of_one_token_let_exactly_one_through(make_app):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="10000 per minute")
    assert register(app.test_client()).status_code == 202
    for _ in range(TRIALS):
        with app.app_context():
            refresh_token = issue_refresh_token(db.session.scalar(select(User)), frozenset(SCOPES))
            db.session.commit()
        statuses = _race(app, refresh_token)
        assert statuses == Counter({200: 1, 401: THREADS - 1})
        # The losers revoked the family: the winner's new token is dead too.
        with app.app_context():
            assert (
                db.session.scalar(select(RefreshToken).where(RefreshToken.revoked_at.is_(None)))
                is None
            )


NESTED = "[" * 200_000 + "]" * 200_000


@pytest.mark.parametrize(
    "path", ["/api/v1/auth/revoke", "/api/v1/auth/refresh", "/api/v1/auth/token"]
)
@pytest.mark.parametrize(
    "body",
    [
        NESTED.encode(),
        b'{"refresh_token": "\xff\xfe"}',
        '{"refresh_token": "caf\u00e9"}'.encode("latin-1"),
        b'{"refresh_token": ',
        b"",
        b"NaN",
        b"1" * 5000,
    ],
    ids=["nested", "invalid-utf8", "latin-1", "truncated", "empty", "nan", "huge-number"],
)
def test_malformed_json_is_a_400_in_the_api_format(client, path, body):
    response = client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "The request could not be understood."}


def test_too_many_revocations_get_429(make_app):
    client = make_app(migrated=True, LOGIN_RATE_LIMIT="3 per minute").test_client()
    revoke = {"refresh_token": "unknown"}
    statuses = [client.post("/api/v1/auth/revoke", json=revoke).status_code for _ in range(4)]
    assert statuses == [204, 204, 204, 429]
