"""The development provider behind `make idp`: a sign-in page in front of the
stub, for development only."""

import re

import pytest
import requests

from .dev_provider import DevelopmentProvider, main
from .signin import finish, start

CLIENT = ("dev-client", "dev-client-secret")


@pytest.fixture
def dev_provider():
    with DevelopmentProvider(*CLIENT).running() as provider:
        yield provider


def _ticket(page: str) -> str:
    match = re.search(r'name="ticket" value="([^"]+)"', page)
    assert match, page
    return match.group(1)


def test_signing_in_through_the_sign_in_page(make_app, dev_provider, environ):
    app = make_app({**environ, **dev_provider.settings()}, migrated=True)
    client = app.test_client()
    page = requests.get(start(client), timeout=5)
    assert page.status_code == 200
    assert "dev-client" in page.text
    answer = {"ticket": _ticket(page.text), "email": "grace@example.com", "name": "Grace Hopper"}
    approved = requests.post(
        dev_provider.issuer + "/authorize/approve", data=answer, allow_redirects=False, timeout=5
    )
    assert approved.status_code == 302
    assert finish(client, approved.headers["Location"]).headers["Location"] == "/account"
    assert "Grace Hopper" in client.get("/account").get_data(as_text=True)
    # A ticket works once.
    again = requests.post(dev_provider.issuer + "/authorize/approve", data=answer, timeout=5)
    assert again.status_code == 400


def test_the_development_provider_can_sign_in_an_admin(make_app, dev_provider, environ):
    # As the README says: .env maps the group "admins" to the role admin.
    app = make_app(
        {**environ, **dev_provider.settings(), "OIDC_ROLES": "admins=admin"}, migrated=True
    )

    def signed_in(**fields):
        client = app.test_client()
        page = requests.get(start(client), timeout=5)
        answer = {"ticket": _ticket(page.text), "email": "ada@example.com", **fields}
        approve = dev_provider.issuer + "/authorize/approve"
        approved = requests.post(approve, data=answer, allow_redirects=False, timeout=5)
        assert finish(client, approved.headers["Location"]).headers["Location"] == "/account"
        return client

    assert signed_in().get("/admin/users").status_code == 403
    assert signed_in(groups="admins").get("/admin/users").status_code == 403
    admin = signed_in(groups="staff admins", second_factor="yes")
    assert admin.get("/admin/users").status_code == 200


def test_the_sign_in_page_sends_browsers_back_to_this_machine_only(dev_provider):
    query = {
        "client_id": "dev-client",
        "response_type": "code",
        "redirect_uri": "https://evil.example/auth/callback",
        "state": "x",
    }
    response = requests.get(dev_provider.issuer + "/authorize", params=query, timeout=5)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"APP_ENV": "production"}, "APP_ENV is production"),
        ({"OIDC_ISSUER": "https://id.example.com"}, "OIDC_ISSUER"),
        ({"OIDC_ISSUER": "http://10.0.0.1:5001"}, "OIDC_ISSUER"),
        ({"OIDC_CLIENT_SECRET": ""}, "OIDC_CLIENT_SECRET"),
    ],
)
def test_the_development_provider_refuses_to_start(monkeypatch, capsys, environ, problem):
    settings = {
        "APP_ENV": "development",
        "OIDC_ISSUER": "http://127.0.0.1:5001",
        "OIDC_CLIENT_ID": "dev-client",
        "OIDC_CLIENT_SECRET": "dev-client-secret",
        **environ,
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    assert main() == 2
    assert problem in capsys.readouterr().err
