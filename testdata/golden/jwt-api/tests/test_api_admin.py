"""Roles and the admin API (roles.py, api_admin.py, admin_cli.py): no
default admin; the admin scope is granted to staff roles only; every admin
route names its permission and refuses everyone else, and a route that names
none refuses everyone; admins need two-factor log-in; accounts are listed a
page at a time and searched; disabling one ends its tokens and its log-ins;
every action is logged and a security event."""

import importlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select, update

from .accounts import EMAIL, PASSWORD, bearer, log_in, register, tokens
from .test_api_security_events import kinds_stored
from .test_api_two_factor import enter_code, next_code, password_step, with_two_factor

ADA = "ada@example.com"
GRACE = "grace@example.com"


@pytest.fixture
def app(make_app):
    # Per client, more log-ins than these tests make (each test logs in a few accounts).
    return make_app(migrated=True, LOGIN_RATE_LIMIT="100 per minute")


def module(app, name):
    return importlib.import_module(f"{app.import_name}.{name}")


def users_table(app):
    return app.extensions["sqlalchemy"].metadata.tables["users"]


def user_id(app, email):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = users_table(app)
        return db.session.scalar(select(users.c.id).where(users.c.email == email))


def cli(app, *args, password=None):
    stdin = None if password is None else f"{password}\n{password}\n"
    return app.test_cli_runner().invoke(args=["users", *args], input=stdin)


def kinds_of(app, email):
    """The kinds of EMAIL's stored events, oldest first."""
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        events = db.metadata.tables["security_events"]
        kinds_stored(app)
        return list(
            db.session.scalars(
                select(events.c.kind)
                .where(events.c.user_id == user_id(app, email))
                .order_by(events.c.id)
            )
        )


def disable_in_the_database(app, email):
    """Mark EMAIL's account disabled, without the new auth_key that disabling
    it through the app or the CLI also gives: its tokens still carry the key."""
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = users_table(app)
        db.session.execute(
            update(users).where(users.c.email == email).values(disabled_at=datetime.now(UTC))
        )
        db.session.commit()


def admin(app) -> dict:
    """Ada, an admin with two-factor log-in on: her tokens (admin scope)."""
    register(app.test_client())
    assert cli(app, "set-role", EMAIL, "admin").exit_code == 0
    _, _, answer = with_two_factor(app)
    assert "admin" in answer["scope"].split()
    return answer


def grace(app) -> dict:
    """Grace, a user: her tokens."""
    return tokens(app.test_client(), email=GRACE)


def admin_routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api_admin.")]


def call(client, rule, access_token, account_id):
    path = rule.rule.replace("<int:user_id>", str(account_id))
    method = "post" if "POST" in rule.methods else "get"
    headers = {} if access_token is None else bearer(access_token)
    return getattr(client, method)(path, headers=headers)


def test_no_account_is_an_admin_until_an_operator_makes_one(app, mail_server):
    issued = tokens(app.test_client())
    assert "admin" not in issued["scope"].split()
    # Asked for by a user, the admin scope is left out; asked for alone, refused.
    asked = log_in(app.test_client(), scope="admin account").get_json()
    assert asked["scope"] == "account"
    refused = log_in(app.test_client(), scope="admin")
    assert refused.status_code == 400 and "open to this account" in refused.get_json()["error"]
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        assert set(db.session.scalars(select(users_table(app).c.role))) == {"user"}
    made = cli(app, "create", "--admin", "root@example.com", password=PASSWORD)
    assert made.exit_code == 0, made.output
    assert "admin" in tokens(app.test_client(), email="root@example.com")["scope"].split()


def test_every_admin_route_names_its_permission_and_refuses_the_others(app, mail_server):
    roles = module(app, "roles")
    permissions = set().union(*roles.ROLES.values())
    routes = admin_routes(app)
    assert len(routes) == 5
    for rule in routes:
        view = app.view_functions[rule.endpoint]
        assert view.required_permission in permissions, rule
        assert view.required_scope == "admin", rule
    user_token = grace(app)["access_token"]
    target = user_id(app, GRACE)
    client = app.test_client()
    for rule in routes:
        assert call(client, rule, None, target).status_code == 401, rule
        response = call(client, rule, user_token, target)
        assert response.status_code == 403, rule
        assert 'error="insufficient_scope", scope="admin"' in response.headers["WWW-Authenticate"]
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        row = db.session.execute(select(users_table(app)).where(users_table(app).c.email == GRACE))
        assert row.one().disabled_at is None


def test_an_admin_without_the_role_any_more_is_refused_at_once(app, mail_server):
    issued = admin(app)
    grace(app)
    target = user_id(app, GRACE)
    assert cli(app, "set-role", EMAIL, "user").exit_code == 0
    client = app.test_client()
    for rule in admin_routes(app):
        response = call(client, rule, issued["access_token"], target)
        assert response.status_code == 403, rule
        # The token's admin scope went with the role (tokens.granted_scopes).
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


def test_a_demoted_admin_loses_the_admin_scope_at_once(app, mail_server):
    issued = admin(app)
    assert cli(app, "set-role", EMAIL, "user").exit_code == 0
    client = app.test_client()
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": issued["refresh_token"]})
    assert refreshed.status_code == 200
    assert "admin" not in refreshed.get_json()["scope"].split()
    # Nor do tokens re-issued by a password change carry it.
    changed = client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "password": "tulip anvil orbit seventeen"},
        headers=bearer(refreshed.get_json()["access_token"]),
    )
    assert changed.status_code == 200 and "admin" not in changed.get_json()["scope"].split()


def test_a_permission_the_role_lacks_is_refused(app, mail_server, monkeypatch):
    roles = module(app, "roles")
    # An admin role cut down to looking: its holders list accounts, nothing more.
    monkeypatch.setitem(roles.ROLES, "admin", frozenset({roles.LIST_USERS}))
    auth = bearer(admin(app)["access_token"])
    grace(app)
    client = app.test_client()
    assert client.get("/api/v1/admin/users", headers=auth).status_code == 200
    target = user_id(app, GRACE)
    for action in ("disable", "enable", "end-sessions"):
        response = client.post(f"/api/v1/admin/users/{target}/{action}", headers=auth)
        assert response.status_code == 403, action
    assert log_in(app.test_client(), email=GRACE).status_code == 200


def test_a_role_taken_away_between_the_password_and_the_code_spends_no_code(app, mail_server):
    register(app.test_client())
    assert cli(app, "set-role", EMAIL, "admin").exit_code == 0
    _, _, answer = with_two_factor(app)
    client = app.test_client()
    pending = password_step(client, scope="admin")
    assert cli(app, "set-role", EMAIL, "user").exit_code == 0
    response = enter_code(client, pending, answer["recovery_codes"][0])
    assert response.status_code == 400 and "open to this account" in response.get_json()["error"]
    # The code was not spent: it still logs in.
    assert enter_code(client, password_step(client), answer["recovery_codes"][0]).status_code == 200


def test_a_route_that_names_no_permission_refuses_everyone(make_app, mail_server):
    app = make_app(migrated=True, LOGIN_RATE_LIMIT="100 per minute")
    api, openapi = module(app, "api"), module(app, "openapi")
    # Added as a developer might: documented and asking for the admin scope,
    # but naming no permission (@admin_only).
    forgotten = openapi.documented("Forgotten", responses={200: ("Secret.", None)})(
        lambda: "secret"
    )
    app.add_url_rule(
        "/api/v1/admin/forgotten",
        endpoint="api_admin.forgotten",
        view_func=api.token_required("admin")(forgotten),
    )
    issued = admin(app)
    response = app.test_client().get(
        "/api/v1/admin/forgotten", headers=bearer(issued["access_token"])
    )
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_admins_need_two_factor_log_in(app, mail_server):
    register(app.test_client())
    assert cli(app, "set-role", EMAIL, "admin").exit_code == 0
    single = tokens(app.test_client())
    assert "admin" in single["scope"].split()
    grace(app)
    target = user_id(app, GRACE)
    client = app.test_client()
    listed = client.get("/api/v1/admin/users", headers=bearer(single["access_token"]))
    assert listed.status_code == 403 and "two-factor" in listed.get_json()["error"]
    # Its actions too: nothing happens.
    path = f"/api/v1/admin/users/{target}/disable"
    assert client.post(path, headers=bearer(single["access_token"])).status_code == 403
    assert log_in(app.test_client(), email=GRACE).status_code == 200


def test_accounts_are_listed_a_page_at_a_time_and_searched(app, mail_server):
    issued = admin(app)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        db.session.execute(
            insert(users_table(app)),
            [
                {"email": f"user{n:02}@example.com", "password_hash": "x", "auth_key": f"k{n}"}
                for n in range(24)
            ]
            + [{"email": "o%ne_x@example.com", "password_hash": "x", "auth_key": "k-odd"}],
        )
        db.session.commit()
    client = app.test_client()
    auth = bearer(issued["access_token"])
    first = client.get("/api/v1/admin/users", headers=auth).get_json()
    assert (len(first["users"]), first["page"], first["pages"], first["total"]) == (20, 1, 2, 26)
    assert first["users"][0]["email"] == ADA and first["users"][0]["two_factor"] is True
    second = client.get("/api/v1/admin/users?page=2", headers=auth).get_json()
    assert len(second["users"]) == 6
    assert client.get("/api/v1/admin/users?page=99", headers=auth).get_json()["users"] == []
    assert client.get("/api/v1/admin/users?page=-3", headers=auth).get_json()["page"] == 1
    found = client.get("/api/v1/admin/users?q=USER0", headers=auth).get_json()
    assert [row["email"] for row in found["users"]] == [f"user0{n}@example.com" for n in range(10)]
    # % and _ match themselves, not any text.
    for query, count in (("%", 1), ("_", 1), ("o%n", 1), ("e_x", 1), ("x%x", 0)):
        answer = client.get("/api/v1/admin/users", query_string={"q": query}, headers=auth)
        assert answer.get_json()["total"] == count, query


def test_disabling_an_account_ends_its_tokens_and_its_log_ins(app, mail_server):
    issued = admin(app)
    victim = grace(app)
    target = user_id(app, GRACE)
    client = app.test_client()
    auth = bearer(issued["access_token"])
    disabled = client.post(f"/api/v1/admin/users/{target}/disable", headers=auth)
    assert disabled.status_code == 200 and disabled.get_json()["disabled"] is True
    assert client.get("/api/v1/me", headers=bearer(victim["access_token"])).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]})
    assert refreshed.status_code == 401
    refused = log_in(app.test_client(), email=GRACE)
    assert refused.status_code == 401 and "disabled" in refused.get_json()["error"]
    # A wrong password is not told that the account is disabled.
    guessed = log_in(app.test_client(), email=GRACE, password="not the password at all")
    assert guessed.status_code == 401 and "disabled" not in guessed.get_json()["error"]
    enabled = client.post(f"/api/v1/admin/users/{target}/enable", headers=auth)
    assert enabled.status_code == 200 and enabled.get_json()["disabled"] is False
    assert log_in(app.test_client(), email=GRACE).status_code == 200


def test_a_disabled_account_is_refused_whatever_token_it_holds(app, mail_server):
    victim = grace(app)
    disable_in_the_database(app, GRACE)
    client = app.test_client()
    assert client.get("/api/v1/me", headers=bearer(victim["access_token"])).status_code == 401
    refreshed = client.post("/api/v1/auth/refresh", json={"refresh_token": victim["refresh_token"]})
    assert refreshed.status_code == 401


def test_a_disabled_account_cannot_finish_a_pending_log_in(app, mail_server):
    _, secret, _ = with_two_factor(app)
    client = app.test_client()
    pending = password_step(client)
    disable_in_the_database(app, ADA)
    assert enter_code(client, pending, next_code(secret)).status_code == 401


def test_an_admin_can_end_an_accounts_sessions(app, mail_server):
    issued = admin(app)
    victim = grace(app)
    client = app.test_client()
    path = f"/api/v1/admin/users/{user_id(app, GRACE)}/end-sessions"
    assert client.post(path, headers=bearer(issued["access_token"])).status_code == 204
    assert client.get("/api/v1/me", headers=bearer(victim["access_token"])).status_code == 401
    assert log_in(app.test_client(), email=GRACE).status_code == 200


def test_an_admin_cannot_disable_their_own_account(app, mail_server):
    issued = admin(app)
    client = app.test_client()
    path = f"/api/v1/admin/users/{user_id(app, ADA)}/disable"
    response = client.post(path, headers=bearer(issued["access_token"]))
    assert response.status_code == 409
    assert client.get("/api/v1/me", headers=bearer(issued["access_token"])).status_code == 200


def test_unknown_accounts_answer_404(app, mail_server):
    auth = bearer(admin(app)["access_token"])
    client = app.test_client()
    for account in (999, 2**31, 2**63):
        assert client.get(f"/api/v1/admin/users/{account}", headers=auth).status_code == 404
        path = f"/api/v1/admin/users/{account}/disable"
        assert client.post(path, headers=auth).status_code == 404


def test_admin_actions_are_logged_and_security_events(app, mail_server, caplog):
    issued = admin(app)
    grace(app)
    target = user_id(app, GRACE)
    client = app.test_client()
    auth = bearer(issued["access_token"])
    caplog.clear()
    for action in ("disable", "enable", "end-sessions"):
        client.post(f"/api/v1/admin/users/{target}/{action}", headers=auth)
    logged = [r for r in caplog.records if getattr(r, "event", "") == "admin_action"]
    assert [(r.action, r.admin_id, r.user_id) for r in logged] == [
        ("account_disabled", user_id(app, ADA), target),
        ("account_enabled", user_id(app, ADA), target),
        ("sessions_ended_by_admin", user_id(app, ADA), target),
    ]
    assert kinds_of(app, GRACE)[-3:] == [
        "account_disabled",
        "account_enabled",
        "sessions_ended_by_admin",
    ]


def test_operators_create_accounts_with_a_prompted_password(app, mail_server):
    weak = cli(app, "create", "--admin", "root@example.com", password="password1234")
    assert weak.exit_code != 0 and "password refused" in weak.output
    made = cli(app, "create", "--admin", "Root@Example.com", password=PASSWORD)
    assert made.exit_code == 0, made.output
    assert "created root@example.com with the role admin" in made.output
    assert "admin API" in made.output
    # The password never shows in the output.
    assert PASSWORD not in made.output
    again = cli(app, "create", "root@example.com", password=PASSWORD)
    assert again.exit_code != 0 and "exists already" in again.output
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = users_table(app)
        row = db.session.execute(select(users).where(users.c.email == "root@example.com")).one()
    assert row.role == "admin" and row.email_verified_at is not None


def test_operators_change_roles_and_disable_accounts_traceably(app, mail_server, caplog):
    register(app.test_client(), confirmed=False)
    refused = cli(app, "set-role", EMAIL, "admin")
    assert refused.exit_code != 0 and "not confirmed" in refused.output
    victim = grace(app)
    caplog.clear()
    assert cli(app, "set-role", GRACE, "admin").exit_code == 0
    assert cli(app, "disable", GRACE).exit_code == 0
    me = app.test_client().get("/api/v1/me", headers=bearer(victim["access_token"]))
    assert me.status_code == 401
    assert log_in(app.test_client(), email=GRACE).status_code == 401
    assert cli(app, "enable", GRACE).exit_code == 0
    assert log_in(app.test_client(), email=GRACE).status_code == 200
    assert kinds_of(app, GRACE)[-4:] == [
        "role_changed",
        "account_disabled",
        "account_enabled",
        "login",
    ]
    logged = [
        r.getMessage() for r in caplog.records if getattr(r, "event", "") == "operator_action"
    ]
    assert logged == [
        "role changed by an operator",
        "account disabled by an operator",
        "account enabled by an operator",
    ]
