"""Passkeys through the API (passkeys.py, api_passkeys.py), driven with a
software authenticator (authenticator.py) whose answers carry real
signatures, made as a browser on the client application's site
(CLIENT_APP_URL) would: adding one needs the current password and user
verification; a log-in checks the challenge (once, in time, of its kind),
the origin, the site, the signature, the account's user handle and the
signature counter; another account's passkeys cannot be seen or removed;
every change is an event and a mail to the owner."""

import importlib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from .accounts import PASSWORD, bearer, tokens
from .authenticator import SoftAuthenticator
from .test_api_security_events import kinds_stored
from .test_api_two_factor import with_two_factor

ADA = "ada@example.com"
GRACE = "grace@example.com"
# The tests' CLIENT_APP_URL: the site whose pages ask the browser for passkeys.
CLIENT_ORIGIN = "http://localhost:3000"


@pytest.fixture
def app(make_app):
    # Several log-ins and ceremonies a test: above the per-client limit.
    return make_app(migrated=True, LOGIN_RATE_LIMIT="200 per minute")


def module(app, name):
    return importlib.import_module(f"{app.import_name}.{name}")


def authenticator(**knobs):
    return SoftAuthenticator(**{"origin": CLIENT_ORIGIN, "rp_id": "localhost", **knobs})


def begin_adding(client, access_token, name="Phone", password=PASSWORD):
    return client.post(
        "/api/v1/me/passkeys/options",
        json={"name": name, "password": password},
        headers=bearer(access_token),
    )


def add(client, access_token, key, name="Phone"):
    """Add a passkey as the client's page does; the final answer."""
    started = begin_adding(client, access_token, name)
    assert started.status_code == 200, started.get_json()
    body = started.get_json()
    return client.post(
        "/api/v1/me/passkeys",
        json={"ceremony_token": body["ceremony_token"], "credential": key.create(body["options"])},
        headers=bearer(access_token),
    )


def begin_log_in(client):
    started = client.post("/api/v1/auth/passkey/options")
    assert started.status_code == 200, started.get_json()
    return started.get_json()


def passkey_log_in(client, key, scope=None, **answer):
    started = begin_log_in(client)
    credential = key.get(started["options"], **answer)
    body = {"ceremony_token": started["ceremony_token"], "credential": credential}
    if scope is not None:
        body["scope"] = scope
    return client.post("/api/v1/auth/passkey", json=body)


def with_a_passkey(app, email=ADA):
    """An account with a passkey: (client, its tokens, the authenticator)."""
    client = app.test_client()
    issued = tokens(client, email=email)
    key = authenticator()
    assert add(client, issued["access_token"], key).status_code == 201
    return client, issued, key


def stored(app, email=ADA):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        passkeys, users = db.metadata.tables["passkeys"], db.metadata.tables["users"]
        return db.session.execute(
            select(passkeys.c.name, passkeys.c.sign_count, passkeys.c.id)
            .join(users, users.c.id == passkeys.c.user_id)
            .where(users.c.email == email)
            .order_by(passkeys.c.id)
        ).all()


def test_a_passkey_is_added_and_then_logs_in(app, mail_server):
    client, issued, key = with_a_passkey(app)
    listed = client.get("/api/v1/me/passkeys", headers=bearer(issued["access_token"])).get_json()
    assert listed["available"] is True and listed["limit"] == 20
    assert [(p["name"], p["last_used_at"]) for p in listed["passkeys"]] == [("Phone", None)]
    answer = passkey_log_in(app.test_client(), key)
    assert answer.status_code == 200, answer.get_json()
    logged_in = answer.get_json()
    assert logged_in["device_token"] and logged_in["token_type"] == "Bearer"
    assert client.get("/api/v1/me", headers=bearer(logged_in["access_token"])).status_code == 200
    assert kinds_stored(app)[-2:] == ["passkey_added", "passkey_login"]
    notice = mail_server.wait_for(ADA, 1, having=re.compile("was just added"))[-1]
    assert notice.message["Subject"] == "A passkey was added to your account"
    assert "http://localhost:3000/passkeys" in notice.text()


def test_the_options_ask_for_a_discoverable_key_and_user_verification(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    options = begin_adding(client, issued["access_token"]).get_json()["options"]
    assert options["rp"]["id"] == "localhost"
    selection = options["authenticatorSelection"]
    assert selection["residentKey"] == "required" and selection["userVerification"] == "required"
    # The user handle is random, not the account's id or address.
    assert options["user"]["id"] not in ("1", "MQ") and len(options["user"]["id"]) >= 80
    log_in_options = begin_log_in(client)["options"]
    assert log_in_options["userVerification"] == "required"
    assert log_in_options.get("allowCredentials", []) == []


def test_adding_a_passkey_needs_the_current_password(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    refused = begin_adding(client, issued["access_token"], password="not the password at all")
    assert refused.status_code == 403
    assert kinds_stored(app)[-1] == "passkey_change_failed"
    assert begin_adding(client, issued["access_token"], name=" ").status_code == 400
    assert begin_adding(client, issued["access_token"], name="x" * 61).status_code == 400
    assert stored(app) == []


def test_an_authenticator_that_does_not_verify_the_user_is_refused(app, mail_server):
    client = app.test_client()
    issued = tokens(client)
    unverified = authenticator(verifies_user=False)
    assert add(client, issued["access_token"], unverified).status_code == 400
    assert stored(app) == []


def test_an_answer_is_accepted_once(app, mail_server):
    # A synced passkey's counter stays at 0, so only the challenge can refuse a replay.
    _, _, key = with_a_passkey(app)
    client = app.test_client()
    started = begin_log_in(client)
    wrong = key.get(started["options"], count_up=False, forged=True)
    body = {"ceremony_token": started["ceremony_token"], "credential": wrong}
    assert client.post("/api/v1/auth/passkey", json=body).status_code == 401
    # The wrong answer spent the challenge: the right one for it comes too late.
    body["credential"] = key.get(started["options"], count_up=False)
    assert client.post("/api/v1/auth/passkey", json=body).status_code == 401
    started = begin_log_in(client)
    body = {
        "ceremony_token": started["ceremony_token"],
        "credential": key.get(started["options"], count_up=False),
    }
    assert client.post("/api/v1/auth/passkey", json=body).status_code == 200
    replayed = client.post("/api/v1/auth/passkey", json=body)
    assert replayed.status_code == 401
    assert 'error="invalid_grant"' in replayed.headers["WWW-Authenticate"]


def test_a_ceremony_is_answered_only_as_what_it_began_as(app, mail_server):
    client, issued, key = with_a_passkey(app)
    owner = bearer(issued["access_token"])
    adding = begin_adding(client, issued["access_token"]).get_json()
    # The token of an unfinished adding, sent with a log-in: refused, and spent.
    body = {"ceremony_token": adding["ceremony_token"], "credential": key.get(adding["options"])}
    assert client.post("/api/v1/auth/passkey", json=body).status_code == 401
    made = authenticator().create(adding["options"])
    body = {"ceremony_token": adding["ceremony_token"], "credential": made}
    assert client.post("/api/v1/me/passkeys", json=body, headers=owner).status_code == 400
    # A log-in's token does not add a passkey.
    started = begin_log_in(client)
    body = {"ceremony_token": started["ceremony_token"], "credential": made}
    assert client.post("/api/v1/me/passkeys", json=body, headers=owner).status_code == 400
    assert len(stored(app)) == 1


def test_a_ceremony_is_for_the_account_that_began_it(app, mail_server):
    ada, ada_tokens, _ = with_a_passkey(app)
    adding = begin_adding(ada, ada_tokens["access_token"]).get_json()
    grace = app.test_client()
    grace_tokens = tokens(grace, email=GRACE)
    answer = authenticator().create(adding["options"])
    body = {"ceremony_token": adding["ceremony_token"], "credential": answer}
    graces = bearer(grace_tokens["access_token"])
    added = grace.post("/api/v1/me/passkeys", json=body, headers=graces)
    assert added.status_code == 400
    assert stored(app, GRACE) == [] and len(stored(app, ADA)) == 1


def test_an_account_holds_a_limited_number_of_passkeys(app, mail_server, monkeypatch):
    monkeypatch.setattr(module(app, "passkeys"), "PASSKEYS_PER_ACCOUNT", 1)
    client = app.test_client()
    access = tokens(client)["access_token"]
    # Two additions begun while the account had none: only the first ends in a passkey.
    first, second = (begin_adding(client, access).get_json() for _ in range(2))
    for started, status in ((first, 201), (second, 409)):
        answer = authenticator().create(started["options"])
        body = {"ceremony_token": started["ceremony_token"], "credential": answer}
        added = client.post("/api/v1/me/passkeys", json=body, headers=bearer(access))
        assert added.status_code == status
    assert begin_adding(client, access).status_code == 409
    assert len(stored(app)) == 1


def test_the_challenge_expires(app, mail_server, monkeypatch):
    _, _, key = with_a_passkey(app)
    client = app.test_client()
    started = begin_log_in(client)
    passkeys = module(app, "passkeys")
    now = passkeys.time.time()
    monkeypatch.setattr(passkeys.time, "time", lambda: now + passkeys.CEREMONY_SECONDS + 1)
    body = {"ceremony_token": started["ceremony_token"], "credential": key.get(started["options"])}
    assert client.post("/api/v1/auth/passkey", json=body).status_code == 401


def test_unanswered_challenges_are_cleared(app, mail_server, monkeypatch):
    client = app.test_client()
    for _ in range(3):
        begin_log_in(client)
    passkeys = module(app, "passkeys")
    now = passkeys.time.time()
    monkeypatch.setattr(passkeys.time, "time", lambda: now + passkeys.CEREMONY_SECONDS + 1)
    begin_log_in(client)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        ceremonies = db.metadata.tables["passkey_ceremonies"]
        assert len(db.session.execute(select(ceremonies)).all()) == 1


def test_a_signature_counter_that_does_not_move_on_is_refused(app, mail_server):
    _, _, key = with_a_passkey(app)
    assert passkey_log_in(app.test_client(), key).status_code == 200
    # A clone of the key answers with the counter the original already used.
    assert passkey_log_in(app.test_client(), key, count_up=False).status_code == 401
    assert stored(app)[0][1] == 1


@pytest.mark.parametrize(
    "hostile",
    [
        {"origin": "http://localhost:3001"},
        {"origin": "https://evil.example"},
        {"rp_id": "evil.example"},
    ],
    ids=["another-port", "another-origin", "another-site"],
)
def test_an_answer_made_for_another_site_is_refused(app, mail_server, hostile):
    _, _, key = with_a_passkey(app)
    for name, value in hostile.items():
        setattr(key, name, value)
    assert passkey_log_in(app.test_client(), key).status_code == 401
    # Nor is a passkey made for it added.
    client = app.test_client()
    issued = tokens(client, email=GRACE)
    assert add(client, issued["access_token"], authenticator(**hostile)).status_code == 400
    assert stored(app, GRACE) == []


def test_a_forged_signature_is_refused(app, mail_server):
    _, _, key = with_a_passkey(app)
    answer = passkey_log_in(app.test_client(), key, forged=True)
    assert answer.status_code == 401
    assert answer.get_json()["error"].startswith("This passkey did not log you in")


def test_a_key_answers_only_for_its_own_account(app, mail_server):
    _, _, ada_key = with_a_passkey(app, ADA)
    _, _, grace_key = with_a_passkey(app, GRACE)
    # Grace's key, naming Ada's user handle: it is not Ada's key.
    client = app.test_client()
    assert passkey_log_in(client, grace_key, user_handle=ada_key.user_handle).status_code == 401
    # Ada's credential id with Grace's key pair: the signature does not match.
    grace_key.credential_id = ada_key.credential_id
    grace_key.user_handle = ada_key.user_handle
    assert passkey_log_in(client, grace_key).status_code == 401


def test_another_accounts_passkeys_cannot_be_seen_or_removed(app, mail_server):
    with_a_passkey(app, ADA)
    ada_passkey = stored(app, ADA)[0][2]
    client = app.test_client()
    grace = bearer(tokens(client, email=GRACE)["access_token"])
    assert client.get("/api/v1/me/passkeys", headers=grace).get_json()["passkeys"] == []
    for passkey_id in (ada_passkey, ada_passkey + 1, 10**9, 2**63):
        assert client.delete(f"/api/v1/me/passkeys/{passkey_id}", headers=grace).status_code == 404
    assert len(stored(app, ADA)) == 1


def test_a_removed_passkey_no_longer_logs_in(app, mail_server):
    client, issued, key = with_a_passkey(app)
    passkey_id = stored(app)[0][2]
    owner = bearer(issued["access_token"])
    removed = client.delete(f"/api/v1/me/passkeys/{passkey_id}", headers=owner)
    assert removed.status_code == 204
    assert passkey_log_in(app.test_client(), key).status_code == 401
    assert kinds_stored(app)[-1] == "passkey_removed"
    notice = mail_server.wait_for(ADA, 1, having=re.compile("was just removed"))[-1]
    assert notice.message["Subject"] == "A passkey was removed from your account"


def test_a_disabled_account_cannot_log_in_with_a_passkey(app, mail_server):
    _, _, key = with_a_passkey(app)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = db.metadata.tables["users"]
        db.session.execute(update(users).values(disabled_at=datetime.now(UTC)))
        db.session.commit()
    answer = passkey_log_in(app.test_client(), key)
    assert answer.status_code == 401 and "disabled" in answer.get_json()["error"]


def test_a_passkey_log_in_is_two_factors_already(app, mail_server):
    client, _, answer = with_two_factor(app)
    key = authenticator()
    assert add(client, answer["access_token"], key).status_code == 201
    # No code asked: the key is bound to the site, and the authenticator verified its user.
    logged_in = passkey_log_in(app.test_client(), key, scope="account")
    assert logged_in.status_code == 200 and logged_in.get_json()["scope"] == "account"


@pytest.mark.parametrize(
    "credential",
    [{}, {"id": 7}, {"id": "AA", "rawId": "AA", "type": "public-key"}, {"response": "text"}],
    ids=["empty", "number-id", "no-response", "text-response"],
)
def test_malformed_answers_are_refused_without_an_error(app, mail_server, credential):
    client, issued, _ = with_a_passkey(app)
    started = begin_log_in(client)
    body = {"ceremony_token": started["ceremony_token"], "credential": credential}
    assert client.post("/api/v1/auth/passkey", json=body).status_code == 401
    adding = begin_adding(client, issued["access_token"]).get_json()
    body = {"ceremony_token": adding["ceremony_token"], "credential": credential}
    answer = client.post("/api/v1/me/passkeys", json=body, headers=bearer(issued["access_token"]))
    assert answer.status_code == 400


def test_a_client_app_at_an_ip_address_offers_no_passkeys(make_app, mail_server):
    app = make_app(migrated=True, CLIENT_APP_URL="http://127.0.0.1:3000")
    client = app.test_client()
    issued = tokens(client)
    assert client.post("/api/v1/auth/passkey/options").status_code == 400
    assert begin_adding(client, issued["access_token"]).status_code == 400
    listed = client.get("/api/v1/me/passkeys", headers=bearer(issued["access_token"]))
    assert listed.get_json()["available"] is False


def test_with_a_parent_domain_only_the_listed_origins_use_passkeys(make_app, mail_server):
    app = make_app(
        migrated=True,
        LOGIN_RATE_LIMIT="200 per minute",
        CLIENT_APP_URL="https://app.example.com",
        PASSKEY_RP_ID="example.com",
        PASSKEY_ORIGINS=["https://app.example.com"],
    )
    client = app.test_client()
    issued = tokens(client)
    key = authenticator(origin="https://app.example.com", rp_id="example.com")
    assert add(client, issued["access_token"], key).status_code == 201
    assert passkey_log_in(client, key).status_code == 200
    key.origin = "https://other.example.com"
    assert passkey_log_in(client, key).status_code == 401


def test_the_client_apps_origin_is_read_as_a_browser_writes_it(make_app, mail_server):
    app = make_app(migrated=True, CLIENT_APP_URL="https://App.Example.com:443/")
    client = app.test_client()
    issued = tokens(client)
    key = authenticator(origin="https://app.example.com", rp_id="app.example.com")
    assert add(client, issued["access_token"], key).status_code == 201
    assert passkey_log_in(client, key).status_code == 200


def test_a_parent_domain_must_list_the_client_apps_origin(make_app, environ):
    config = module(make_app(), "config")
    with pytest.raises(config.ConfigError, match="PASSKEY_ORIGINS must include the origin"):
        make_app(
            {
                **environ,
                "CLIENT_APP_URL": "https://app.example.com",
                "PASSKEY_RP_ID": "example.com",
                "PASSKEY_ORIGINS": "https://www.example.com",
            }
        )
