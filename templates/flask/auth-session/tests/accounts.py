"""Helpers that drive the account forms like a browser."""

import re

EMAIL = "Ada@Example.com"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "tulip anvil orbit seventeen"


def register(client, csrf_token, email=EMAIL, password=PASSWORD, confirm=None):
    token = csrf_token(client.get("/auth/register").get_data(as_text=True))
    return client.post(
        "/auth/register",
        data={
            "csrf_token": token,
            "email": email,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def log_in(client, csrf_token, email=EMAIL, password=PASSWORD, query=""):
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    return client.post(
        "/auth/login" + query, data={"csrf_token": token, "email": email, "password": password}
    )


def log_out(client, csrf_token):
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post("/auth/logout", data={"csrf_token": token})


def request_reset(client, csrf_token, email=EMAIL):
    token = csrf_token(client.get("/auth/reset").get_data(as_text=True))
    return client.post("/auth/reset", data={"csrf_token": token, "email": email})


def reset_link(mail_server, email="ada@example.com", count=1):
    """The path and query of the link in the newest of ``count`` reset mails to ``email``."""
    mails = mail_server.wait_for(email, count)
    match = re.search(
        r"https://localhost(/auth/reset/new\?token=[A-Za-z0-9._-]+)", mails[-1].text()
    )
    assert match, "no reset link in the mail"
    return match.group(1)


def choose_password(client, csrf_token, link, password=NEW_PASSWORD, confirm=None):
    page = client.get(link)
    if page.status_code != 200:
        return page
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page.get_data(as_text=True)).group(1)
    return client.post(
        "/auth/reset/new",
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "token": token,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )


def change_password(client, csrf_token, current=PASSWORD, password=NEW_PASSWORD):
    token = csrf_token(client.get("/account/password").get_data(as_text=True))
    return client.post(
        "/account/password",
        data={"csrf_token": token, "current": current, "password": password, "confirm": password},
    )
