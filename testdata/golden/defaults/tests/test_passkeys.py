"""Passkeys (passkeys.py, passkey_views.py), driven with a software
authenticator (authenticator.py) whose answers carry real signatures:
adding one needs the current password and user verification; a log-in
checks the challenge (once, and in time), the origin, the site, the
signature, the account's user handle and the signature counter; another
account's passkeys cannot be seen or removed; every change is an event and a
mail to the owner."""

import importlib
import json
import re

import pytest
from sqlalchemy import func, select

from .accounts import PASSWORD, log_in, log_out, register
from .authenticator import SoftAuthenticator, unb64u
from .test_security_events import kinds
from .test_two_factor import turn_on

ADA = "ada@example.com"
GRACE = "grace@example.com"


@pytest.fixture
def app(make_app):
    # Several log-ins and ceremonies a test: above the per-client limit.
    return make_app(migrated=True, LOGIN_RATE_LIMIT="200 per minute")


def module(app, name):
    return importlib.import_module(f"{app.import_name}.{name}")


def signed_in(app, csrf_token, email=ADA):
    register(app.test_client(), csrf_token, email=email)
    client = app.test_client()
    assert log_in(client, csrf_token, email=email).status_code == 302
    return client


def page_token(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def begin_adding(client, name="Phone", password=PASSWORD):
    token = page_token(client, "/account/passkeys")
    answer = client.post(
        "/account/passkeys/options",
        data={"csrf_token": token, "name": name, "current": password},
    )
    return answer, token


def add(client, authenticator, name="Phone"):
    """Add a passkey as the page's script does; the final response."""
    options, token = begin_adding(client, name)
    assert options.status_code == 200, options.get_data(as_text=True)
    return client.post(
        "/account/passkeys",
        json=authenticator.create(options.get_json()),
        headers={"X-CSRFToken": token},
    )


def begin_log_in(client, query=""):
    token = page_token(client, "/auth/login")
    options = client.post("/auth/passkey/options" + query, data={"csrf_token": token})
    assert options.status_code == 200, options.get_data(as_text=True)
    return options.get_json(), token


def passkey_log_in(client, authenticator, **answer):
    options, token = begin_log_in(client)
    return client.post(
        "/auth/passkey", json=authenticator.get(options, **answer), headers={"X-CSRFToken": token}
    )


def stored(app, email=ADA):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users, passkeys = (db.metadata.tables[name] for name in ("users", "passkeys"))
        return db.session.execute(
            select(passkeys.c.name, passkeys.c.sign_count, passkeys.c.id)
            .join(users, users.c.id == passkeys.c.user_id)
            .where(users.c.email == email)
            .order_by(passkeys.c.id)
        ).all()


def signed_in_with_a_passkey(app, csrf_token, email=ADA):
    client = signed_in(app, csrf_token, email)
    authenticator = SoftAuthenticator()
    assert add(client, authenticator).status_code == 201
    log_out(client, csrf_token)
    return client, authenticator


def test_a_passkey_is_added_and_then_logs_in(app, client, csrf_token, mail_server):
    client = signed_in(app, csrf_token)
    authenticator = SoftAuthenticator()
    added = add(client, authenticator, name="Ada's phone")
    assert added.status_code == 201
    assert added.get_json() == {"redirect": "/account/passkeys"}
    page = client.get("/account/passkeys").get_data(as_text=True)
    assert "Passkey added: Ada&#39;s phone." in page
    assert '<td class="passkey-name">Ada&#39;s phone</td>' in page
    mail = mail_server.wait_for(ADA, 1, having=re.compile("passkey"))[-1]
    assert "added: Ada's phone" in mail.text()
    log_out(client, csrf_token)

    assert client.get("/account").status_code == 302
    options, token = begin_log_in(client, "?next=/notes")
    # No list of keys: the browser offers what it holds, and nothing tells whose they are.
    assert options.get("allowCredentials", []) == []
    assert options["userVerification"] == "required"
    answer = client.post(
        "/auth/passkey", json=authenticator.get(options), headers={"X-CSRFToken": token}
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"redirect": "/notes"}
    assert client.get("/account").status_code == 200
    assert stored(app) == [("Ada's phone", 1, stored(app)[0][2])]
    assert kinds(app)[-3:] == ["login", "passkey_added", "passkey_login"]


def test_the_options_ask_for_a_discoverable_key_and_user_verification(app, csrf_token):
    client = signed_in(app, csrf_token)
    options, _ = begin_adding(client)
    created = options.get_json()
    assert created["rp"] == {"id": "localhost", "name": app.config["PASSKEY_RP_NAME"]}
    assert created["authenticatorSelection"]["residentKey"] == "required"
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert len(unb64u(created["challenge"])) == 64
    # The user handle is random, not the id or the address.
    handle = unb64u(created["user"]["id"])
    assert len(handle) == 64
    assert ADA.encode() not in handle
    # A second passkey: the same handle, and the first key listed to be left out.
    authenticator = SoftAuthenticator()
    client.post(
        "/account/passkeys",
        json=authenticator.create(created),
        headers={"X-CSRFToken": page_token(client, "/account/passkeys")},
    )
    again = begin_adding(client, name="Key")[0].get_json()
    assert again["user"]["id"] == created["user"]["id"]
    assert [c["id"] for c in again["excludeCredentials"]] == [authenticator._credential({})["id"]]


def test_adding_a_passkey_needs_the_current_password(app, csrf_token):
    client = signed_in(app, csrf_token)
    answer, token = begin_adding(client, password="not my password at all")
    assert answer.status_code == 401
    assert answer.get_json() == {"error": "This is not your current password."}
    # No challenge was handed out, so no answer can be registered.
    forged = SoftAuthenticator().create(
        {"user": {"id": "AAAA"}, "challenge": "AAAAAAAAAAAAAAAAAAAAAA"}
    )
    refused = client.post("/account/passkeys", json=forged, headers={"X-CSRFToken": token})
    assert refused.status_code == 400
    assert stored(app) == []
    assert "passkey_change_failed" in kinds(app)


@pytest.mark.parametrize(
    ("name", "problem"),
    [("", "This field is required."), ("x" * 61, "at most 60"), ("tab\there", "control")],
)
def test_a_passkey_name_is_checked_on_the_server(app, csrf_token, name, problem):
    client = signed_in(app, csrf_token)
    answer, _ = begin_adding(client, name=name)
    assert answer.status_code == 400
    assert problem in answer.get_json()["error"]


def test_an_authenticator_that_does_not_verify_the_user_is_refused(app, csrf_token):
    client = signed_in(app, csrf_token)
    assert add(client, SoftAuthenticator(verifies_user=False)).status_code == 400
    assert stored(app) == []
    # Nor can a key added with verification log in without it.
    client, authenticator = signed_in_with_a_passkey(app, csrf_token, GRACE)
    authenticator.verifies_user = False
    assert passkey_log_in(client, authenticator).status_code == 401
    assert client.get("/account").status_code == 302


def test_an_answer_is_accepted_once(app, csrf_token):
    # A synced passkey's counter stays at 0, so only the challenge can refuse a replay.
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    options, token = begin_log_in(client)
    wrong = client.post(
        "/auth/passkey",
        json=authenticator.get(options, count_up=False, forged=True),
        headers={"X-CSRFToken": token},
    )
    assert wrong.status_code == 401
    # The wrong answer spent the challenge: the right one for it comes too late.
    right = authenticator.get(options, count_up=False)
    assert (
        client.post("/auth/passkey", json=right, headers={"X-CSRFToken": token}).status_code == 401
    )
    options, token = begin_log_in(client)
    answer = authenticator.get(options, count_up=False)
    assert (
        client.post("/auth/passkey", json=answer, headers={"X-CSRFToken": token}).status_code == 200
    )
    log_out(client, csrf_token)
    token = page_token(client, "/auth/login")
    replayed = client.post("/auth/passkey", json=answer, headers={"X-CSRFToken": token})
    assert replayed.status_code == 401
    assert client.get("/account").status_code == 302


def test_a_synced_passkey_whose_counter_stays_at_0_logs_in_every_time(app, csrf_token):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    for _ in range(2):
        assert passkey_log_in(client, authenticator, count_up=False).status_code == 200
        log_out(client, csrf_token)
    assert stored(app)[0][1] == 0


def test_the_challenge_expires(app, csrf_token, monkeypatch):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    options, token = begin_log_in(client)
    passkeys = module(app, "passkeys")
    now = passkeys.time.time()
    monkeypatch.setattr(passkeys.time, "time", lambda: now + passkeys.CEREMONY_SECONDS + 1)
    late = client.post(
        "/auth/passkey", json=authenticator.get(options), headers={"X-CSRFToken": token}
    )
    assert late.status_code == 401


def test_a_signature_counter_that_does_not_move_on_is_refused(app, csrf_token):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    assert passkey_log_in(client, authenticator).status_code == 200
    log_out(client, csrf_token)
    # A clone of the key answers with the counter the original already used.
    assert passkey_log_in(client, authenticator, count_up=False).status_code == 401
    assert client.get("/account").status_code == 302
    assert stored(app)[0][1] == 1


@pytest.mark.parametrize(
    "hostile",
    [
        {"origin": "https://localhost.evil.example"},
        {"origin": "http://localhost"},
        {"rp_id": "evil.example"},
    ],
    ids=["another-origin", "plain-http", "another-site"],
)
def test_an_answer_made_for_another_site_is_refused(app, csrf_token, hostile):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    for name, value in hostile.items():
        setattr(authenticator, name, value)
    assert passkey_log_in(client, authenticator).status_code == 401
    assert client.get("/account").status_code == 302
    # Nor is a passkey made for it added.
    client = signed_in(app, csrf_token, GRACE)
    other = SoftAuthenticator(**hostile)
    assert add(client, other).status_code == 400
    assert stored(app, GRACE) == []


def test_a_forged_signature_is_refused(app, csrf_token):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    answer = passkey_log_in(client, authenticator, forged=True)
    assert answer.status_code == 401
    assert answer.get_json()["error"].startswith("This passkey did not log you in.")
    assert client.get("/account").status_code == 302


def test_a_key_answers_only_for_its_own_account(app, csrf_token):
    _, ada_key = signed_in_with_a_passkey(app, csrf_token, ADA)
    client, grace_key = signed_in_with_a_passkey(app, csrf_token, GRACE)
    # Grace's key, naming Ada's user handle: it is not Ada's key.
    answer = passkey_log_in(client, grace_key, user_handle=ada_key.user_handle)
    assert answer.status_code == 401
    # Ada's credential id with Grace's key pair: the signature does not match.
    grace_key.credential_id = ada_key.credential_id
    grace_key.user_handle = ada_key.user_handle
    assert passkey_log_in(client, grace_key).status_code == 401
    assert client.get("/account").status_code == 302


def test_another_accounts_passkeys_cannot_be_seen_or_removed(app, csrf_token):
    client, _ = signed_in_with_a_passkey(app, csrf_token, ADA)
    ada_passkey = stored(app, ADA)[0][2]
    grace = signed_in(app, csrf_token, GRACE)
    assert "passkey-name" not in grace.get("/account/passkeys").get_data(as_text=True)
    token = page_token(grace, "/account/passkeys")
    for passkey_id in (ada_passkey, ada_passkey + 1, 10**9):
        removed = grace.post(f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": token})
        assert removed.status_code == 404
    assert len(stored(app, ADA)) == 1


def test_a_removed_passkey_no_longer_logs_in(app, csrf_token, mail_server):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    assert log_in(client, csrf_token).status_code == 302
    passkey_id = stored(app)[0][2]
    token = page_token(client, "/account/passkeys")
    removed = client.post(f"/account/passkeys/{passkey_id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert stored(app) == []
    assert "removed: Phone" in mail_server.wait_for(ADA, 2, having=re.compile("passkey"))[-1].text()
    assert kinds(app)[-1] == "passkey_removed"
    log_out(client, csrf_token)
    assert passkey_log_in(client, authenticator).status_code == 401


def test_a_disabled_account_cannot_log_in_with_a_passkey(app, csrf_token):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        user_model = module(app, "models").User
        db.session.scalar(select(user_model).where(user_model.email == ADA)).disable()
        db.session.commit()
    answer = passkey_log_in(client, authenticator)
    assert answer.status_code == 403
    assert client.get("/account").status_code == 302


def test_a_passkey_log_in_is_two_factors_already(app, csrf_token):
    client = signed_in(app, csrf_token)
    turn_on(client, csrf_token)
    authenticator = SoftAuthenticator()
    assert add(client, authenticator).status_code == 201
    log_out(client, csrf_token)
    # The password alone still asks for the code ...
    assert log_in(client, csrf_token).headers["Location"] == "/auth/two-factor"
    client = app.test_client()
    # ... and a passkey, verified on the authenticator, does not.
    assert passkey_log_in(client, authenticator).status_code == 200
    assert client.get("/account").status_code == 200


@pytest.mark.parametrize(
    "answer",
    [
        None,
        [],
        "text",
        {},
        {"rawId": 5},
        {"id": "AA", "rawId": "AA", "type": "public-key", "response": {}},
        {
            "id": "AA",
            "rawId": "AA",
            "type": "public-key",
            "response": {
                "clientDataJSON": "AA",
                "authenticatorData": "AA",
                "signature": "AA",
                "userHandle": "A",
            },
        },
    ],
    ids=["nothing", "list", "text", "empty", "number-id", "no-response", "bad-base64"],
)
def test_malformed_answers_are_refused_without_an_error(app, csrf_token, answer):
    client, _ = signed_in_with_a_passkey(app, csrf_token)
    _, token = begin_log_in(client)
    refused = client.post(
        "/auth/passkey",
        data=json.dumps(answer),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert refused.status_code == 401
    assert log_in(client, csrf_token).status_code == 302
    adding, token = begin_adding(client)
    assert adding.status_code == 200
    refused = client.post(
        "/account/passkeys",
        data=json.dumps(answer),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert refused.status_code == 400


def test_every_passkey_post_needs_the_csrf_token(app, csrf_token):
    client, authenticator = signed_in_with_a_passkey(app, csrf_token)
    options, _ = begin_log_in(client)
    assert client.post("/auth/passkey", json=authenticator.get(options)).status_code == 400
    assert client.post("/auth/passkey/options").status_code == 400
    assert log_in(client, csrf_token).status_code == 302
    passkey_id = stored(app)[0][2]
    for path in (
        "/account/passkeys/options",
        "/account/passkeys",
        f"/account/passkeys/{passkey_id}/remove",
    ):
        assert client.post(path, json={}).status_code == 400
    assert len(stored(app)) == 1


def test_every_passkey_page_of_the_account_needs_a_log_in(app, client):
    token = page_token(client, "/auth/login")
    for method, path in [
        ("get", "/account/passkeys"),
        ("post", "/account/passkeys/options"),
        ("post", "/account/passkeys"),
        ("post", "/account/passkeys/1/remove"),
    ]:
        answer = getattr(client, method)(path, headers={"X-CSRFToken": token})
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/auth/login")


def test_an_oversized_credential_id_is_refused(app, csrf_token):
    client = signed_in(app, csrf_token)
    authenticator = SoftAuthenticator()
    authenticator.credential_id = bytes(1024)
    assert add(client, authenticator).status_code == 400
    assert stored(app) == []


def test_turning_on_two_factor_log_in_shows_the_passkeys_that_skip_it(app, csrf_token):
    client = signed_in(app, csrf_token)
    assert add(client, SoftAuthenticator()).status_code == 201
    response, _ = turn_on(client, csrf_token)
    assert "Your account has 1 passkey," in response.get_data(as_text=True)


def test_an_admin_with_two_factor_log_in_opens_the_admin_pages_with_a_passkey(app, csrf_token):
    client = signed_in(app, csrf_token)
    turn_on(client, csrf_token)
    authenticator = SoftAuthenticator()
    assert add(client, authenticator).status_code == 201
    result = app.test_cli_runner().invoke(args=["users", "set-role", ADA, "admin"])
    assert result.exit_code == 0
    client = app.test_client()
    assert passkey_log_in(client, authenticator).status_code == 200
    assert client.get("/admin/users").status_code == 200


def test_passkeys_go_with_the_account(app, csrf_token):
    client, _ = signed_in_with_a_passkey(app, csrf_token)
    assert log_in(client, csrf_token).status_code == 302
    token = page_token(client, "/account/delete")
    assert (
        client.post("/account/delete", data={"csrf_token": token, "current": PASSWORD}).status_code
        == 302
    )
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        passkeys = db.metadata.tables["passkeys"]
        assert db.session.scalar(select(func.count()).select_from(passkeys)) == 0


def test_a_site_opened_by_its_ip_address_offers_no_passkeys(make_app, environ, csrf_token):
    app = make_app({**environ, "TRUSTED_HOSTS": "127.0.0.1"}, migrated=True)
    client = app.test_client()
    page = client.get("/auth/login", base_url="https://127.0.0.1")
    assert page.status_code == 200
    assert "passkey" not in page.get_data(as_text=True).lower()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(
        1
    )
    answer = client.post(
        "/auth/passkey/options",
        data={"csrf_token": token},
        base_url="https://127.0.0.1",
        headers={"Referer": "https://127.0.0.1/auth/login"},
    )
    assert answer.status_code == 400
    assert "not an IP address" in answer.get_json()["error"]


@pytest.mark.parametrize(
    ("rp_id", "origins"),
    [
        ("https://example.com", ""),
        ("example.com:443", ""),
        ("Example.com", ""),
        ("10.0.0.1", ""),
        # A parent domain needs its origins listed, each of them under it.
        ("example.com", ""),
        ("example.com", "https://example.org"),
        ("example.com", "http://example.com"),
        ("example.com", "https://example.com/"),
        ("", "https://example.com"),
    ],
)
def test_passkey_settings_that_could_not_work_or_are_unsafe_are_refused(
    make_app, environ, rp_id, origins
):
    config = importlib.import_module(make_app().import_name + ".config")
    with pytest.raises(config.ConfigError, match="PASSKEY_"):
        make_app({**environ, "PASSKEY_RP_ID": rp_id, "PASSKEY_ORIGINS": origins})


def test_with_a_parent_domain_only_the_listed_origins_use_passkeys(make_app, environ, csrf_token):
    listed = make_app(
        {**environ, "PASSKEY_RP_ID": "localhost", "PASSKEY_ORIGINS": "https://localhost"},
        migrated=True,
        LOGIN_RATE_LIMIT="200 per minute",
    )
    client, authenticator = signed_in_with_a_passkey(listed, csrf_token)
    assert passkey_log_in(client, authenticator).status_code == 200
    # This origin is not among the listed: a subdomain's page, say, or a forged Host.
    unlisted = make_app(
        {**environ, "PASSKEY_RP_ID": "localhost", "PASSKEY_ORIGINS": "https://app.localhost"},
    )
    client = unlisted.test_client()
    token = page_token(client, "/auth/login")
    answer = client.post("/auth/passkey/options", data={"csrf_token": token})
    assert answer.status_code == 400
