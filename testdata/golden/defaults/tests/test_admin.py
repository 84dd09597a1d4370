"""Roles and the admin pages (roles.py, admin.py, admin_cli.py): no default
admin; every admin route names its permission and refuses everyone else,
and a route that names none refuses everyone; admins need two-factor
log-in; accounts are listed a page at a time and searched; disabling one
ends its open sessions and its log-ins; every action is logged."""

import importlib
import re

import pytest
from sqlalchemy import func, insert, select, update

from .accounts import EMAIL, PASSWORD, log_in, register
from .test_security_events import kinds
from .test_two_factor import password_step, with_two_factor

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
        return db.session.scalar(
            select(users_table(app).c.id).where(users_table(app).c.email == email)
        )


def cli(app, *args, password=None):
    stdin = None if password is None else f"{password}\n{password}\n"
    return app.test_cli_runner().invoke(args=["users", *args], input=stdin)


def admin_client(app, csrf_token):
    """Ada, an admin with two-factor log-in on, signed in."""
    client, _, _ = with_two_factor(app, csrf_token)
    assert cli(app, "set-role", EMAIL, "admin").exit_code == 0
    return client


def grace(app, csrf_token):
    """Grace, a user, signed in."""
    register(app.test_client(), csrf_token, email=GRACE)
    client = app.test_client()
    assert log_in(client, csrf_token, email=GRACE).status_code == 302
    return client


def admin_routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]


def concrete(rule, account_id):
    return rule.rule.replace("<int:user_id>", str(account_id))


def test_no_account_is_an_admin_until_an_operator_makes_one(app, csrf_token, mail_server):
    # Registering cannot choose a role, whatever the form is sent.
    client = app.test_client()
    token = csrf_token(client.get("/auth/register").get_data(as_text=True))
    client.post(
        "/auth/register",
        data={
            "csrf_token": token,
            "email": EMAIL,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "role": "admin",
        },
    )
    register(app.test_client(), csrf_token, email=GRACE)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        roles = db.session.scalars(select(users_table(app).c.role)).all()
    assert roles == ["user", "user"]
    signed_in = grace(app, csrf_token)
    assert signed_in.get("/admin/users").status_code == 403


def test_every_admin_route_names_its_permission_and_refuses_the_others(
    app, csrf_token, mail_server
):
    admin = admin_client(app, csrf_token)
    user = grace(app, csrf_token)
    target = user_id(app, GRACE)
    token = csrf_token(user.get("/account").get_data(as_text=True))
    routes = admin_routes(app)
    assert len(routes) >= 5
    for rule in routes:
        assert getattr(app.view_functions[rule.endpoint], "required_permission", None), rule.rule
        path = concrete(rule, target)
        method = "POST" if "POST" in rule.methods else "GET"
        visitor = app.test_client()
        visitor_token = csrf_token(visitor.get("/auth/login").get_data(as_text=True))
        anonymous = visitor.open(path, method=method, data={"csrf_token": visitor_token})
        assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
        refused = user.open(path, method=method, data={"csrf_token": token})
        assert refused.status_code == 403, path
    # Grace is still signed in and enabled: nothing above acted.
    assert user.get("/account").status_code == 200
    assert admin.get("/admin/users").status_code == 200


def test_a_route_that_names_no_permission_refuses_everyone(make_app, csrf_token, mail_server):
    app = make_app(migrated=True)
    # Added as a developer might, without @requires.
    app.add_url_rule("/admin/forgotten", endpoint="admin.forgotten", view_func=lambda: "secret")
    admin = admin_client(app, csrf_token)
    response = admin.get("/admin/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_admins_need_two_factor_log_in(app, csrf_token, mail_server):
    register(app.test_client(), csrf_token)
    assert cli(app, "set-role", EMAIL, "admin").exit_code == 0
    user = grace(app, csrf_token)
    client = app.test_client()
    log_in(client, csrf_token)
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/two-factor")
    # Its actions too: nothing happens.
    token = csrf_token(client.get("/account").get_data(as_text=True))
    target = user_id(app, GRACE)
    response = client.post(f"/admin/users/{target}/disable", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account/two-factor")
    assert user.get("/account").status_code == 200


def test_accounts_are_listed_a_page_at_a_time(app, csrf_token, mail_server):
    admin = admin_client(app, csrf_token)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        db.session.execute(
            insert(users_table(app)),
            [
                {"email": f"user{n:02}@example.org", "password_hash": "x", "auth_key": f"k{n}"}
                for n in range(30)
            ],
        )
        db.session.commit()

    def listed(query):
        html = admin.get("/admin/users" + query).get_data(as_text=True)
        return re.findall(r'<a href="/admin/users/\d+">([^<]+)</a>', html)

    first, second = listed(""), listed("?page=2")
    assert len(first) == 20 and len(second) == 11 and not set(first) & set(second)
    # Out of bounds: the first page, or an empty one; never an error.
    for query in ("?page=0", "?page=-3", "?page=abc"):
        assert listed(query) == first
    assert listed("?page=999") == []
    assert listed("?q=USER1") == [f"user1{n}@example.org" for n in range(10)]
    # The search is a substring, not a pattern: % and _ match themselves.
    assert listed("?q=%25") == [] and listed("?q=_") == []
    assert admin.get("/admin/users?q=" + "a" * 5000).status_code == 200


def test_disabling_an_account_ends_its_open_session_and_its_log_ins(
    app, csrf_token, mail_server, caplog
):
    admin = admin_client(app, csrf_token)
    user = grace(app, csrf_token)
    target = user_id(app, GRACE)
    page = admin.get(f"/admin/users/{target}").get_data(as_text=True)
    caplog.clear()
    assert (
        admin.post(
            f"/admin/users/{target}/disable", data={"csrf_token": csrf_token(page)}
        ).status_code
        == 302
    )
    assert user.get("/account").status_code == 302
    refused = log_in(app.test_client(), csrf_token, email=GRACE)
    assert refused.status_code == 403
    assert "This account is disabled" in refused.get_data(as_text=True)
    # A wrong password still gets the one generic answer: only the owner learns it is disabled.
    wrong = log_in(app.test_client(), csrf_token, email=GRACE, password="not the password at all")
    assert wrong.status_code == 401 and "disabled" not in wrong.get_data(as_text=True)
    actions = [r for r in caplog.records if getattr(r, "event", "") == "admin_action"]
    assert [(r.action, r.admin_id, r.user_id) for r in actions] == [
        ("account_disabled", user_id(app, ADA), target)
    ]
    assert "disabled" in admin.get(f"/admin/users/{target}").get_data(as_text=True)

    page = admin.get(f"/admin/users/{target}").get_data(as_text=True)
    admin.post(f"/admin/users/{target}/enable", data={"csrf_token": csrf_token(page)})
    assert log_in(app.test_client(), csrf_token, email=GRACE).status_code == 302
    # (The failed log-in's event is stored after its response, in no set order.)
    events = [kind for kind in kinds(app, GRACE) if kind != "login_failed"]
    assert events[-3:] == ["account_disabled", "account_enabled", "login"]


def test_a_disabled_account_is_refused_whatever_session_it_holds(app, csrf_token, mail_server):
    # Disabled in the database alone, its key unchanged: load_user and the
    # pending second step refuse it all the same.
    user = grace(app, csrf_token)
    with_two_factor(app, csrf_token)
    pending = password_step(app, csrf_token)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        db.session.execute(update(users_table(app)).values(disabled_at=func.now()))
        db.session.commit()
    assert user.get("/account").status_code == 302
    assert pending.get("/auth/two-factor").status_code == 302


def test_an_admin_can_end_an_accounts_sessions(app, csrf_token, mail_server):
    admin = admin_client(app, csrf_token)
    user = grace(app, csrf_token)
    target = user_id(app, GRACE)
    page = admin.get(f"/admin/users/{target}").get_data(as_text=True)
    admin.post(f"/admin/users/{target}/sessions/end", data={"csrf_token": csrf_token(page)})
    assert user.get("/account").status_code == 302
    assert log_in(app.test_client(), csrf_token, email=GRACE).status_code == 302
    assert "sessions_ended_by_admin" in kinds(app, GRACE)


def test_admin_actions_need_a_csrf_token(app, csrf_token, mail_server):
    admin = admin_client(app, csrf_token)
    user = grace(app, csrf_token)
    target = user_id(app, GRACE)
    assert admin.post(f"/admin/users/{target}/disable").status_code == 400
    assert user.get("/account").status_code == 200


def test_an_admin_cannot_disable_themselves(app, csrf_token, mail_server):
    admin = admin_client(app, csrf_token)
    own = user_id(app, ADA)
    page = admin.get(f"/admin/users/{own}").get_data(as_text=True)
    admin.post(f"/admin/users/{own}/disable", data={"csrf_token": csrf_token(page)})
    assert admin.get("/admin/users").status_code == 200


def test_an_admin_without_the_role_any_more_is_refused_at_once(app, csrf_token, mail_server):
    admin = admin_client(app, csrf_token)
    assert cli(app, "set-role", EMAIL, "user").exit_code == 0
    assert admin.get("/admin/users").status_code == 403


def test_operators_create_accounts_with_a_prompted_password(app, mail_server):
    weak = cli(app, "create", "--admin", "root@example.com", password="password1234")
    assert weak.exit_code != 0 and "password refused" in weak.output
    made = cli(app, "create", "--admin", "Root@Example.com", password=PASSWORD)
    assert made.exit_code == 0, made.output
    assert "created root@example.com with the role admin" in made.output
    # The password never shows in the output.
    assert PASSWORD not in made.output
    again = cli(app, "create", "root@example.com", password=PASSWORD)
    assert again.exit_code != 0 and "exists already" in again.output
    bad = cli(app, "create", "not-an-address", password=PASSWORD)
    assert bad.exit_code != 0
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = users_table(app)
        row = db.session.execute(select(users).where(users.c.email == "root@example.com")).one()
    assert row.role == "admin" and row.email_verified_at is not None
    assert row.password_hash.startswith("$argon2id$")


def test_operators_change_roles_and_disable_accounts_traceably(
    app, csrf_token, mail_server, caplog
):
    register(app.test_client(), csrf_token, confirmed=False)
    refused = cli(app, "set-role", EMAIL, "admin")
    assert refused.exit_code != 0 and "not confirmed" in refused.output
    user = grace(app, csrf_token)
    caplog.clear()
    assert cli(app, "set-role", GRACE, "admin").exit_code == 0
    assert cli(app, "disable", GRACE).exit_code == 0
    assert user.get("/account").status_code == 302
    assert log_in(app.test_client(), csrf_token, email=GRACE).status_code == 403
    assert cli(app, "enable", GRACE).exit_code == 0
    assert log_in(app.test_client(), csrf_token, email=GRACE).status_code == 302
    assert kinds(app, GRACE)[-4:] == [
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


@pytest.mark.parametrize("role", ["superuser", ""])
def test_only_known_roles_can_be_given(app, csrf_token, mail_server, role):
    register(app.test_client(), csrf_token)
    result = cli(app, "set-role", EMAIL, role)
    assert result.exit_code != 0
