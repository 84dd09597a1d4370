"""Two-factor log-in through the API (two_factor.py, api_two_factor.py):
turning it on proves the client's app holds the secret and ends every
log-in; once on, a right password gets only a two_factor_token, which opens
nothing but the second step; no other route (a password reset included)
skips it; a code works once; recovery codes work once and are stored as
digests; attempts are limited per account; the secret is stored encrypted
under keys that rotate; every change is an event and a mail."""

import importlib
import re
import time
from urllib.parse import parse_qs, unquote, urlsplit

import pyotp
import pytest
from sqlalchemy import select

from .accounts import EMAIL, NEW_PASSWORD, PASSWORD, bearer, log_in, mailed_token, tokens
from .test_api_security_events import kinds_stored

ADA = "ada@example.com"
SETUP = "/api/v1/me/two-factor/setup"
TURN_ON = "/api/v1/me/two-factor"
SECOND_STEP = "/api/v1/auth/token/two-factor"


@pytest.fixture
def app(make_app):
    # Per client, more than any test needs: the per-account limits are what act.
    return make_app(migrated=True, LOGIN_RATE_LIMIT="100 per minute")


def module(app, name):
    return importlib.import_module(f"{app.import_name}.{name}")


def set_up(client, access_token) -> dict:
    response = client.post(SETUP, headers=bearer(access_token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def turn_on(client, access_token, password=PASSWORD, code=None, setup=None):
    """Turn two-factor log-in on like a client whose user scanned the QR
    code: (response, secret)."""
    setup = setup or set_up(client, access_token)
    code = pyotp.TOTP(setup["secret"]).now() if code is None else code
    response = client.post(
        TURN_ON,
        json={"setup_token": setup["setup_token"], "code": code, "password": password},
        headers=bearer(access_token),
    )
    return response, setup["secret"]


def with_two_factor(app):
    """An account with two-factor log-in on: (client, secret, the answer
    that turned it on: fresh tokens and the recovery codes)."""
    client = app.test_client()
    issued = tokens(client)
    response, secret = turn_on(client, issued["access_token"])
    assert response.status_code == 200, response.get_json()
    return client, secret, response.get_json()


def next_code(secret):
    """The code the app shows in the next time step: the current one was
    spent turning two-factor log-in on, and a code works once."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def password_step(client, password=PASSWORD, **extra) -> str:
    """Log in with the password; the two_factor_token of the pending log-in."""
    response = log_in(client, password=password, **extra)
    assert response.status_code == 403, response.get_json()
    assert set(response.get_json()) == {"error", "two_factor_token", "expires_in"}
    return response.get_json()["two_factor_token"]


def enter_code(client, two_factor_token, code, device_token=None):
    body = {"two_factor_token": two_factor_token, "code": code}
    if device_token is not None:
        body["device_token"] = device_token
    return client.post(SECOND_STEP, json=body)


def stored_user(app, email=ADA):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = db.metadata.tables["users"]
        return db.session.execute(select(users).where(users.c.email == email)).one()


def stored_digests(app):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        return db.session.scalars(select(db.metadata.tables["recovery_codes"].c.digest)).all()


def opens_me(client, issued) -> bool:
    return client.get("/api/v1/me", headers=bearer(issued["access_token"])).status_code == 200


def test_turning_it_on_needs_the_password_and_a_code_from_the_secret(app, mail_server):
    client = app.test_client()
    access = tokens(client)["access_token"]
    setup = set_up(client, access)
    wrong_password, _ = turn_on(client, access, password="not the password at all", setup=setup)
    assert wrong_password.status_code == 403
    wrong_code, _ = turn_on(client, access, code="000000", setup=setup)
    if wrong_code.status_code == 200:
        pytest.skip("000000 happened to be this step's code")
    assert wrong_code.status_code == 400 and "does not match" in wrong_code.get_json()["error"]
    # A code from another secret does not fit either.
    other, _ = turn_on(client, access, code=pyotp.TOTP(pyotp.random_base32()).now(), setup=setup)
    assert other.status_code == 400
    assert stored_user(app).totp_secret is None
    response, secret = turn_on(client, access, setup=setup)
    assert response.status_code == 200, response.get_json()
    assert len(response.get_json()["recovery_codes"]) == 10
    assert stored_user(app).totp_secret is not None
    fresh = response.get_json()["access_token"]
    assert client.post(SETUP, headers=bearer(fresh)).status_code == 409
    again, _ = turn_on(client, fresh, setup=setup)
    assert again.status_code == 409
    assert kinds_stored(app)[-2:] == ["two_factor_change_failed", "two_factor_enabled"]


def test_the_set_up_answers_a_qr_code_and_stores_nothing(app, mail_server):
    client = app.test_client()
    access = tokens(client)["access_token"]
    first, second = set_up(client, access), set_up(client, access)
    # Every set-up starts over with a new secret.
    assert first["secret"] != second["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", first["secret"])
    uri = urlsplit(first["otpauth_uri"])
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    assert unquote(uri.path).endswith(ADA)
    assert parse_qs(uri.query)["secret"] == [first["secret"]]
    assert first["qr_code"].startswith("data:image/svg+xml")
    assert "<script" not in unquote(first["qr_code"])
    # The setup token holds the secret encrypted: it does not show it.
    assert first["secret"] not in first["setup_token"]
    assert stored_user(app).totp_secret is None


def test_a_set_up_is_bound_to_its_account_and_expires(app, mail_server, monkeypatch):
    ada, grace = app.test_client(), app.test_client()
    ada_access = tokens(ada)["access_token"]
    grace_access = tokens(grace, email="grace@example.com")["access_token"]
    adas_setup = set_up(ada, ada_access)
    taken, _ = turn_on(grace, grace_access, setup=adas_setup)
    assert taken.status_code == 400 and "start it again" in taken.get_json()["error"]
    monkeypatch.setattr(module(app, "api_two_factor"), "SETUP_SECONDS", 0)
    expired, _ = turn_on(ada, ada_access, setup=adas_setup)
    assert expired.status_code == 400
    assert stored_user(app).totp_secret is None


def test_turning_it_on_ends_every_log_in_and_answers_with_fresh_tokens(app, mail_server):
    client = app.test_client()
    other = tokens(client)
    this = log_in(client).get_json()
    response, _ = turn_on(client, this["access_token"])
    assert response.status_code == 200
    fresh = response.get_json()
    assert not opens_me(client, other) and not opens_me(client, this)
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]})
    assert refreshed.status_code == 401
    assert opens_me(client, fresh)
    assert fresh["scope"] == this["scope"] and fresh["device_token"]


def test_log_in_asks_for_the_code_after_the_password(app, mail_server):
    _, secret, _ = with_two_factor(app)
    client = app.test_client()
    pending = password_step(client)
    response = enter_code(client, pending, next_code(secret))
    assert response.status_code == 200, response.get_json()
    assert opens_me(client, response.get_json())
    assert kinds_stored(app)[-1] == "login"


def test_a_wrong_password_never_reaches_the_code(app, mail_server):
    with_two_factor(app)
    response = log_in(app.test_client(), password="not the password at all")
    assert response.status_code == 401
    assert "two_factor_token" not in response.get_json()


def test_the_two_factor_token_opens_nothing_else(app, mail_server):
    client = app.test_client()
    access = tokens(client)["access_token"]
    unfinished = set_up(client, access)
    response, secret = turn_on(client, access)
    owner = bearer(response.get_json()["access_token"])
    pending = password_step(client)
    assert client.get("/api/v1/me", headers=bearer(pending)).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pending}).status_code == 401
    assert client.get("/api/v1/notes", headers=bearer(pending)).status_code == 401
    # A set-up is no pending log-in, nor the other way round.
    assert enter_code(client, unfinished["setup_token"], next_code(secret)).status_code == 401
    client.post("/api/v1/me/two-factor/off", json={"password": PASSWORD}, headers=owner)
    body = {"setup_token": pending, "code": next_code(secret), "password": PASSWORD}
    assert client.post(TURN_ON, json=body, headers=owner).status_code == 400


def test_a_password_reset_does_not_skip_the_second_factor(app, mail_server):
    _, secret, _ = with_two_factor(app)
    client = app.test_client()
    assert client.post("/api/v1/auth/reset", json={"email": ADA}).status_code == 202
    token = mailed_token(mail_server, "reset-password")
    reset = client.post("/api/v1/auth/reset/new", json={"token": token, "password": NEW_PASSWORD})
    assert reset.status_code == 200 and "access_token" not in reset.get_json()
    assert stored_user(app).totp_secret is not None
    pending = password_step(client, password=NEW_PASSWORD)
    assert enter_code(client, pending, next_code(secret)).status_code == 200


def test_a_code_from_a_step_either_side_works_and_one_further_does_not(app):
    two_factor = module(app, "two_factor")
    secret = pyotp.random_base32(32)
    totp = pyotp.TOTP(secret)
    now = 1_800_000_015.0
    step = int(now // 30)
    for offset in (-1, 0, 1):
        code = totp.at((step + offset) * 30)
        assert two_factor.matching_step(secret, code, now) == step + offset
    for offset in (-2, 2):
        assert two_factor.matching_step(secret, totp.at((step + offset) * 30), now) is None
    for malformed in ("", "12345", "1234567", "abcdef", "١٢٣٤٥٦"):
        assert two_factor.matching_step(secret, malformed, now) is None


def test_a_code_is_accepted_once(app, mail_server, caplog):
    _, secret, _ = with_two_factor(app)
    # The code that turned it on (of the step it claimed) is spent already.
    spent = pyotp.TOTP(secret).generate_otp(stored_user(app).totp_last_step)
    client = app.test_client()
    pending = password_step(client)
    assert enter_code(client, pending, spent).status_code == 401
    code = next_code(secret)
    assert enter_code(client, pending, code).status_code == 200
    caplog.clear()
    replayed = enter_code(client, password_step(client), code)
    assert replayed.status_code == 401
    assert 'error="invalid_grant"' in replayed.headers["WWW-Authenticate"]
    # Refused as a replay: the code matched, its time step was spent.
    assert [r for r in caplog.records if getattr(r, "event", "") == "two_factor_replayed"]


def test_two_requests_turning_it_on_cannot_both_win(app, mail_server):
    tokens(app.test_client())
    two_factor, models = module(app, "two_factor"), module(app, "models")
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        user = db.session.scalar(select(models.User))
        first = two_factor.turn_on(user, two_factor.new_secret(), 1)
        second = two_factor.turn_on(user, two_factor.new_secret(), 1)
        db.session.commit()
    assert len(first) == 10 and second is None
    assert len(stored_digests(app)) == 10


def test_a_recovery_code_logs_in_once(app, mail_server):
    _, _, answer = with_two_factor(app)
    codes = answer["recovery_codes"]
    client = app.test_client()
    # Typed in capitals, with spaces: still the code.
    response = enter_code(client, password_step(client), codes[3].upper().replace("-", " "))
    assert response.status_code == 200
    assert kinds_stored(app)[-2:] == ["recovery_code_used", "login"]
    issued = response.get_json()
    state = client.get("/api/v1/me/two-factor", headers=bearer(issued["access_token"]))
    assert state.get_json() == {"enabled": True, "recovery_codes_left": 9}
    assert enter_code(client, password_step(client), codes[3]).status_code == 401


def test_recovery_codes_are_stored_as_digests_only(app, mail_server):
    _, _, answer = with_two_factor(app)
    digests = stored_digests(app)
    assert len(digests) == 10
    for code in answer["recovery_codes"]:
        plain = code.replace("-", "")
        assert not any(plain in digest or code in digest for digest in digests)


def test_new_recovery_codes_need_the_password_and_void_the_old_ones(app, mail_server):
    client, _, answer = with_two_factor(app)
    auth = bearer(answer["access_token"])
    path = "/api/v1/me/two-factor/recovery-codes"
    refused = client.post(path, json={"password": "not the password at all"}, headers=auth)
    assert refused.status_code == 403
    renewed = client.post(path, json={"password": PASSWORD}, headers=auth)
    assert renewed.status_code == 200
    new_codes = renewed.get_json()["recovery_codes"]
    assert len(new_codes) == 10 and not set(new_codes) & set(answer["recovery_codes"])
    other = app.test_client()
    assert enter_code(other, password_step(other), answer["recovery_codes"][0]).status_code == 401
    assert enter_code(other, password_step(other), new_codes[0]).status_code == 200


def test_turning_it_off_needs_the_password(app, mail_server):
    client, _, answer = with_two_factor(app)
    auth = bearer(answer["access_token"])
    path = "/api/v1/me/two-factor/off"
    wrong = client.post(path, json={"password": "not the password at all"}, headers=auth)
    assert wrong.status_code == 403
    assert stored_user(app).totp_secret is not None
    assert client.post(path, json={"password": PASSWORD}, headers=auth).status_code == 204
    assert stored_user(app).totp_secret is None and stored_digests(app) == []
    assert client.post(path, json={"password": PASSWORD}, headers=auth).status_code == 409
    assert log_in(app.test_client()).status_code == 200
    state = client.get("/api/v1/me/two-factor", headers=auth).get_json()
    assert state == {"enabled": False, "recovery_codes_left": 0}


def test_the_pending_log_in_expires(app, mail_server, monkeypatch):
    _, secret, _ = with_two_factor(app)
    client = app.test_client()
    pending = password_step(client)
    monkeypatch.setattr(module(app, "two_factor"), "PENDING_SECONDS", 0)
    response = enter_code(client, pending, next_code(secret))
    assert response.status_code == 401 and "log in again" in response.get_json()["error"]


def test_a_password_change_voids_a_pending_log_in(app, mail_server):
    owner, secret, answer = with_two_factor(app)
    client = app.test_client()
    pending = password_step(client)
    changed = owner.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "password": NEW_PASSWORD},
        headers=bearer(answer["access_token"]),
    )
    assert changed.status_code == 200
    assert enter_code(client, pending, next_code(secret)).status_code == 401


def test_attempts_are_limited_per_account_before_any_code_is_checked(make_app, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", TWO_FACTOR_RATE_LIMIT="3 per hour"
    )
    _, secret, _ = with_two_factor(app)
    # Three wrong codes, each from another client.
    for _ in range(3):
        stranger = app.test_client()
        assert enter_code(stranger, password_step(stranger), "000000").status_code == 401
    # Now even the right code is not checked.
    client = app.test_client()
    response = enter_code(client, password_step(client), next_code(secret))
    assert response.status_code == 429
    assert kinds_stored(app).count("two_factor_failed") == 3


def test_the_owners_client_keeps_its_own_allowance(make_app, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", TWO_FACTOR_RATE_LIMIT="2 per hour"
    )
    owner, secret, answer = with_two_factor(app)
    # The owner's client got the account's device token from turning it on.
    device = answer["device_token"]
    for _ in range(2):
        stranger = app.test_client()
        assert enter_code(stranger, password_step(stranger), "000000").status_code == 401
    stranger = app.test_client()
    assert enter_code(stranger, password_step(stranger), "000000").status_code == 429
    pending = password_step(owner, device_token=device)
    assert enter_code(owner, pending, next_code(secret), device_token=device).status_code == 200


def test_a_password_reset_does_not_start_the_allowance_afresh(make_app, mail_server):
    app = make_app(
        migrated=True, LOGIN_RATE_LIMIT="100 per minute", TWO_FACTOR_RATE_LIMIT="1 per hour"
    )
    _, secret, _ = with_two_factor(app)
    stranger = app.test_client()
    assert enter_code(stranger, password_step(stranger), "000000").status_code == 401
    assert enter_code(stranger, password_step(stranger), "000000").status_code == 429
    # Whoever holds the mailbox resets the password: the reset's device token
    # proves the mailbox, not the second factor, so it shares the spent allowance.
    client = app.test_client()
    assert client.post("/api/v1/auth/reset", json={"email": ADA}).status_code == 202
    token = mailed_token(mail_server, "reset-password")
    reset = client.post("/api/v1/auth/reset/new", json={"token": token, "password": NEW_PASSWORD})
    device = reset.get_json()["device_token"]
    pending = password_step(client, password=NEW_PASSWORD, device_token=device)
    assert enter_code(client, pending, next_code(secret), device_token=device).status_code == 429


def test_the_scopes_asked_for_at_the_password_step_are_the_ones_granted(app, mail_server):
    _, secret, _ = with_two_factor(app)
    client = app.test_client()
    pending = password_step(client, scope="notes:read")
    response = enter_code(client, pending, next_code(secret))
    assert response.status_code == 200 and response.get_json()["scope"] == "notes:read"
    narrow = bearer(response.get_json()["access_token"])
    assert client.get("/api/v1/me", headers=narrow).status_code == 403


def test_an_unreadable_secret_refuses_the_code_but_not_a_recovery_code(make_app, mail_server):
    app = make_app(migrated=True, ENCRYPTION_KEYS=["a" + "0123456789abcdef" * 4])
    _, secret, answer = with_two_factor(app)
    # Deployed without the key that wrote the secret. The pending log-in
    # token is encrypted too, so the password step runs on this deploy.
    other = make_app(ENCRYPTION_KEYS=["b" + "0123456789abcdef" * 4])
    client = other.test_client()
    pending = password_step(client)
    assert enter_code(client, pending, next_code(secret)).status_code == 401
    assert enter_code(client, pending, answer["recovery_codes"][0]).status_code == 200


def test_wrong_codes_are_logged_without_the_code(app, mail_server, caplog):
    with_two_factor(app)
    caplog.clear()
    client = app.test_client()
    enter_code(client, password_step(client), "123456")
    records = [r for r in caplog.records if getattr(r, "event", "") == "two_factor_failed"]
    assert len(records) == 1
    assert "123456" not in caplog.text and ADA not in caplog.text.lower()


def test_the_secret_is_stored_encrypted(app, mail_server):
    _, secret, _ = with_two_factor(app)
    stored = stored_user(app).totp_secret
    assert secret not in stored and secret.lower() not in stored.lower()
    with app.app_context():
        assert module(app, "stored_secrets").decrypt(stored) == secret


def test_changes_are_security_events_and_mail_the_owner(app, mail_server):
    client, _, answer = with_two_factor(app)
    auth = bearer(answer["access_token"])
    client.post("/api/v1/me/two-factor/recovery-codes", json={"password": PASSWORD}, headers=auth)
    client.post("/api/v1/me/two-factor/off", json={"password": PASSWORD}, headers=auth)
    assert kinds_stored(app)[-3:] == [
        "two_factor_enabled",
        "recovery_codes_renewed",
        "two_factor_disabled",
    ]
    mails = mail_server.wait_for(ADA, 3, having=re.compile("Two-factor log-in of your account"))
    assert [mail.message["Subject"] for mail in mails[-3:]] == [
        "Two-factor log-in was turned on",
        "New recovery codes were made",
        "Two-factor log-in was turned off",
    ]
    assert "http://localhost:3000/two-factor" in mails[-1].text()
    events = client.get("/api/v1/me/security-events", headers=auth).get_json()["events"]
    assert events[0]["description"] == "Two-factor log-in turned off"


def test_an_operator_can_turn_it_off(app, mail_server):
    client, _, answer = with_two_factor(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "two-factor-off", EMAIL])
    assert result.exit_code == 0, result.output
    assert stored_user(app).totp_secret is None and stored_digests(app) == []
    again = runner.invoke(args=["users", "two-factor-off", EMAIL])
    assert again.exit_code != 0 and "has two-factor log-in on" in again.output
    # What the second factor opened ends with it.
    assert not opens_me(client, answer)
    assert log_in(app.test_client()).status_code == 200
