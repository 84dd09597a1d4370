"""Roles from the provider and the admin pages (oidc_roles.py, roles.py,
admin.py): nobody is an admin until OIDC_ROLES maps a group to the role;
each log-in sets the role afresh from the claim; every admin route names
its permission and refuses everyone else, and a route that names none
refuses everyone; admins need a log-in with a second factor (the ID token's
amr); disabling an account ends its open sessions and its log-ins; every
action is logged and a security event."""

import re

import pytest
from sqlalchemy import func, insert, select, update

from staff_portal.extensions import db
from staff_portal.models import (
    SecurityEvent,
    User,
)
from staff_portal.oidc_roles import (
    role_from,
)

from .signin import sign_in

ADA = {"sub": "ada", "email": "ada@example.com", "email_verified": True, "name": "Ada"}
GRACE = {"sub": "grace", "email": "grace@example.com", "email_verified": True, "name": "Grace"}
ADMINS = "app-admins"
SECOND_FACTOR = ["pwd", "mfa"]


@pytest.fixture
def app(make_app):
    return make_app(migrated=True, OIDC_ROLES=f"{ADMINS}=admin", LOGIN_RATE_LIMIT="100 per minute")


def signed_in(app, provider, person, **claims):
    """A new browser, signed in at the provider as PERSON with CLAIMS."""
    provider.user = {**person, **claims}
    client = app.test_client()
    assert sign_in(client).headers["Location"] == "/account"
    return client


def admin(app, provider):
    """Ada, in the admins group, signed in with a second factor."""
    return signed_in(app, provider, ADA, groups=[ADMINS], amr=SECOND_FACTOR)


def account(app, person):
    with app.app_context():
        return db.session.scalar(select(User).where(User.subject == person["sub"]))


def kinds(app, person):
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.subject == person["sub"]))
        return list(
            db.session.scalars(
                select(SecurityEvent.kind)
                .where(SecurityEvent.user_id == user_id)
                .order_by(SecurityEvent.id)
            )
        )


def token_of(client, csrf_token):
    return csrf_token(client.get("/account").get_data(as_text=True))


def admin_routes(app):
    return [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]


def test_nobody_is_an_admin_until_a_group_is_mapped_to_the_role(make_app, provider):
    app = make_app(migrated=True)
    assert app.config["OIDC_ROLES"] == ""
    # Whatever the provider says, with no OIDC_ROLES nobody is more than a user.
    client = signed_in(app, provider, ADA, groups=["admin", "admins", ADMINS], amr=SECOND_FACTOR)
    assert account(app, ADA).role == "user"
    assert client.get("/admin/users").status_code == 403
    assert "Administration" not in client.get("/account").get_data(as_text=True)


def test_each_log_in_sets_the_role_from_the_mapped_groups(app, provider):
    signed_in(app, provider, ADA, groups=["staff", ADMINS])
    assert account(app, ADA).role == "admin"
    # Removed from the group at the provider: an ordinary user from the next log-in.
    client = signed_in(app, provider, ADA, groups=["staff"], amr=SECOND_FACTOR)
    assert account(app, ADA).role == "user"
    assert client.get("/admin/users").status_code == 403
    # One group may come as a string; values that are not strings count for nothing.
    signed_in(app, provider, ADA, groups=ADMINS)
    assert account(app, ADA).role == "admin"
    signed_in(app, provider, ADA, groups=[{"name": ADMINS}, 7])
    assert account(app, ADA).role == "user"


def test_a_role_change_is_recorded_and_ends_the_accounts_other_sessions(app, provider, caplog):
    first = signed_in(app, provider, ADA, groups=[ADMINS])
    assert kinds(app, ADA) == ["role_changed", "login"]
    same = signed_in(app, provider, ADA, groups=[ADMINS])
    assert first.get("/account").status_code == 200
    assert kinds(app, ADA) == ["role_changed", "login", "login"]
    # Taken out of the group: the sessions opened as an admin end.
    signed_in(app, provider, ADA)
    assert first.get("/account").status_code == same.get("/account").status_code == 302
    assert kinds(app, ADA)[-2:] == ["role_changed", "login"]
    logged = [r for r in caplog.records if getattr(r, "event", "") == "role_changed"]
    assert [(r.old, r.new) for r in logged] == [("user", "admin"), ("admin", "user")]


def test_claim_values_past_the_first_thousand_count_for_nothing():
    # Checked on the claims alone: an ID token this large would not fit a cookie session.
    mapping = {ADMINS: "admin"}
    past = {"groups": [f"g{n}" for n in range(1000)] + [ADMINS]}
    within = {"groups": [f"g{n}" for n in range(999)] + [ADMINS]}
    assert role_from(past, "groups", mapping) == "user"
    assert role_from(within, "groups", mapping) == "admin"


def test_the_claim_that_holds_the_groups_is_configurable(make_app, provider):
    app = make_app(migrated=True, OIDC_ROLES_CLAIM="roles", OIDC_ROLES="ops=admin")
    signed_in(app, provider, ADA, groups=["ops"])
    assert account(app, ADA).role == "user"
    signed_in(app, provider, ADA, roles=["ops"])
    assert account(app, ADA).role == "admin"


def test_every_admin_route_names_its_permission_and_refuses_the_others(app, provider, csrf_token):
    boss = admin(app, provider)
    user = signed_in(app, provider, GRACE, amr=SECOND_FACTOR)
    target = account(app, GRACE).id
    token = token_of(user, csrf_token)
    routes = admin_routes(app)
    assert len(routes) >= 5
    for rule in routes:
        assert getattr(app.view_functions[rule.endpoint], "required_permission", None), rule.rule
        path = rule.rule.replace("<int:user_id>", str(target))
        method = "POST" if "POST" in rule.methods else "GET"
        anonymous = app.test_client().open(path, method=method)
        if method == "GET":
            assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
        else:
            # A visitor holds no CSRF token: refused before the gate.
            assert anonymous.status_code == 400, path
        assert user.open(path, method=method, data={"csrf_token": token}).status_code == 403, path
    # An admin whose log-in showed no second factor is refused everything too.
    single = signed_in(app, provider, {**ADA, "sub": "ada-2"}, groups=[ADMINS])
    single_token = token_of(single, csrf_token)
    for rule in routes:
        path = rule.rule.replace("<int:user_id>", str(target))
        method = "POST" if "POST" in rule.methods else "GET"
        assert (
            single.open(path, method=method, data={"csrf_token": single_token}).status_code == 403
        )
    # Grace is still signed in and enabled: nothing above acted.
    assert user.get("/account").status_code == 200
    assert boss.get("/admin/users").status_code == 200


def test_a_route_that_names_no_permission_refuses_everyone(make_app, provider):
    app = make_app(migrated=True, OIDC_ROLES=f"{ADMINS}=admin")
    # Added as a developer might, without @requires.
    app.add_url_rule("/admin/forgotten", endpoint="admin.forgotten", view_func=lambda: "secret")
    response = admin(app, provider).get("/admin/forgotten")
    assert response.status_code == 403
    assert "secret" not in response.get_data(as_text=True)


def test_admins_need_a_log_in_with_a_second_factor(app, provider, csrf_token):
    signed_in(app, provider, GRACE)
    target = account(app, GRACE).id
    client = signed_in(app, provider, ADA, groups=[ADMINS], amr=["pwd"])
    page = client.get("/admin/users")
    assert page.status_code == 403
    assert "A second factor is needed" in page.get_data(as_text=True)
    assert "opens after a" in client.get("/account").get_data(as_text=True)
    # Its actions too: nothing happens.
    token = token_of(client, csrf_token)
    refused = client.post(f"/admin/users/{target}/disable", data={"csrf_token": token})
    assert refused.status_code == 403
    assert account(app, GRACE).disabled_at is None
    # No amr at all is no second factor either.
    assert signed_in(app, provider, ADA, groups=[ADMINS]).get("/admin/users").status_code == 403
    assert admin(app, provider).get("/admin/users").status_code == 200


def test_a_new_log_in_without_a_second_factor_closes_the_admin_pages(app, provider, csrf_token):
    client = admin(app, provider)
    assert client.get("/admin/users").status_code == 200
    client.post("/auth/logout", data={"csrf_token": token_of(client, csrf_token)})
    provider.user = {**ADA, "groups": [ADMINS], "amr": ["pwd"]}
    assert sign_in(client).headers["Location"] == "/account"
    assert client.get("/admin/users").status_code == 403


def test_the_amr_values_that_count_as_a_second_factor_are_configurable(make_app, provider, environ):
    app = make_app(
        {**environ, "OIDC_ROLES": f"{ADMINS}=admin", "OIDC_MFA_AMR": " hwk, otp "}, migrated=True
    )
    assert app.config["OIDC_MFA_AMR"] == ["hwk", "otp"]
    with_mfa = signed_in(app, provider, ADA, groups=[ADMINS], amr=["mfa"])
    assert with_mfa.get("/admin/users").status_code == 403
    with_otp = signed_in(app, provider, ADA, groups=[ADMINS], amr=["pwd", "otp"])
    assert with_otp.get("/admin/users").status_code == 200


def test_accounts_are_listed_a_page_at_a_time_and_searched(app, provider):
    client = admin(app, provider)
    with app.app_context():
        db.session.execute(
            insert(User),
            [
                {
                    "issuer": "https://id.example",
                    "subject": f"s{n}",
                    "email": f"u{n:02}@example.org",
                }
                for n in range(30)
            ],
        )
        db.session.commit()
        total = db.session.scalar(select(func.count()).select_from(User))
    first = client.get("/admin/users").get_data(as_text=True)
    assert f"Page 1 of 2, {total} accounts." in first
    assert first.count("/admin/users/") == 20
    second = client.get("/admin/users?page=2").get_data(as_text=True)
    assert second.count("/admin/users/") == total - 20
    # Out-of-range pages are the nearest page or empty, never an error.
    assert client.get("/admin/users?page=0").status_code == 200
    assert client.get("/admin/users?page=99999999999").status_code == 200
    found = client.get("/admin/users?q=u07@").get_data(as_text=True)
    assert "u07@example.org" in found and "u08@example.org" not in found
    # % and _ match themselves, not any text.
    assert "No account matches." in client.get("/admin/users?q=%25_").get_data(as_text=True)


def test_disabling_an_account_ends_its_open_session_and_its_log_ins(
    app, provider, csrf_token, caplog
):
    boss = admin(app, provider)
    user = signed_in(app, provider, GRACE)
    target = account(app, GRACE).id
    token = token_of(boss, csrf_token)
    page = boss.get(f"/admin/users/{target}").get_data(as_text=True)
    assert "grace@example.com" in page and "enabled" in page
    assert (
        boss.post(f"/admin/users/{target}/disable", data={"csrf_token": token}).status_code == 302
    )
    assert account(app, GRACE).disabled_at is not None
    # Her open session ends at once, and a new log-in is refused.
    assert user.get("/account").status_code == 302
    provider.user = GRACE
    refused = sign_in(app.test_client())
    assert refused.status_code == 403
    assert "This account is disabled" in refused.get_data(as_text=True)
    assert kinds(app, GRACE) == ["login", "account_disabled"]
    # Logged with who did it.
    logged = [r for r in caplog.records if getattr(r, "event", "") == "admin_action"]
    assert [(r.action, r.admin_id, r.user_id) for r in logged] == [
        ("account_disabled", account(app, ADA).id, target)
    ]
    # Enabled again, she logs in.
    assert boss.post(f"/admin/users/{target}/enable", data={"csrf_token": token}).status_code == 302
    assert signed_in(app, provider, GRACE).get("/account").status_code == 200
    assert kinds(app, GRACE) == ["login", "account_disabled", "account_enabled", "login"]


def test_a_disabled_account_is_refused_whatever_session_it_holds(app, provider):
    user = signed_in(app, provider, GRACE)
    with app.app_context():
        # Disabled without its key changing (as by hand in the database).
        db.session.execute(update(User).values(disabled_at=func.now()))
        db.session.commit()
    assert user.get("/account").status_code == 302


def test_searching_finds_addresses_in_any_letter_case_names_and_subjects(app, provider):
    client = admin(app, provider)
    signed_in(app, provider, {**GRACE, "email": "Grace.Hopper@Example.com"})
    signed_in(app, provider, {"sub": "x-42", "name": "Linus Nameonly"})
    for query, found in (
        ("grace.hopper@example", "Grace.Hopper@Example.com"),
        ("NAMEONLY", "Linus Nameonly"),
        ("x-42", "Linus Nameonly"),
    ):
        page = client.get(f"/admin/users?q={query}").get_data(as_text=True)
        assert found in page, query
        assert "ada@example.com" not in page
    assert "No account matches." in client.get("/admin/users?q=x-4").get_data(as_text=True)


def test_an_admin_cannot_disable_their_own_account(app, provider, csrf_token):
    boss = admin(app, provider)
    own = account(app, ADA).id
    response = boss.post(
        f"/admin/users/{own}/disable", data={"csrf_token": token_of(boss, csrf_token)}
    )
    assert response.status_code == 302
    assert account(app, ADA).disabled_at is None
    assert boss.get("/admin/users").status_code == 200


def test_an_admin_can_end_an_accounts_sessions(app, provider, csrf_token):
    boss = admin(app, provider)
    user = signed_in(app, provider, GRACE)
    target = account(app, GRACE).id
    token = token_of(boss, csrf_token)
    response = boss.post(f"/admin/users/{target}/sessions/end", data={"csrf_token": token})
    assert response.status_code == 302
    assert user.get("/account").status_code == 302
    assert kinds(app, GRACE)[-1] == "sessions_ended_by_admin"
    # She may log in again: ending sessions is not disabling.
    assert signed_in(app, provider, GRACE).get("/account").status_code == 200


def test_admin_actions_need_a_csrf_token(app, provider):
    boss = admin(app, provider)
    signed_in(app, provider, GRACE)
    target = account(app, GRACE).id
    for action in ("disable", "enable", "sessions/end"):
        assert boss.post(f"/admin/users/{target}/{action}").status_code == 400
    assert account(app, GRACE).disabled_at is None


def test_an_admin_page_names_the_account_at_the_provider(app, provider):
    boss = admin(app, provider)
    signed_in(app, provider, {**GRACE, "email_verified": False})
    target = account(app, GRACE).id
    page = boss.get(f"/admin/users/{target}").get_data(as_text=True)
    # An unverified address is not kept: the name stands in for it.
    assert re.search(r'<h1 class="email">Grace</h1>', page)
    assert provider.issuer in page and ">grace<" in page
