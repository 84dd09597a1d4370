"""Helpers that drive the account forms like a browser."""

import re

EMAIL = "Ada@Example.com"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "tulip anvil orbit seventeen"


def register(client, csrf_token, email=EMAIL, password=PASSWORD, confirm=None, confirmed=True):
    """Register through the form; ``confirmed`` then marks the address
    confirmed in the database, as following the mailed link would (the tests
    of that link follow it for real)."""
    token = csrf_token(client.get("/auth/register").get_data(as_text=True))
    response = client.post(
        "/auth/register",
        data={
            "csrf_token": token,
            "email": email,
            "password": password,
            "confirm": password if confirm is None else confirm,
        },
    )
    if confirmed and response.status_code == 200:
        mark_confirmed(client.application, email)
    return response


def mark_confirmed(app, email):
    import importlib

    from sqlalchemy import func, select, update

    # The address as the app stores it.
    stored = importlib.import_module(f"{app.import_name}.addresses").normalize_email(email)
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        users = db.metadata.tables["users"]
        db.session.execute(
            update(users)
            .where(users.c.email == stored, users.c.email_verified_at.is_(None))
            .values(email_verified_at=func.now())
        )
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(users)) >= 1


def log_in(client, csrf_token, email=EMAIL, password=PASSWORD, query=""):
    token = csrf_token(client.get("/auth/login").get_data(as_text=True))
    return client.post(
        "/auth/login" + query, data={"csrf_token": token, "email": email, "password": password}
    )


def log_out(client, csrf_token):
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post("/auth/logout", data={"csrf_token": token})


def log_out_everywhere(client, csrf_token):
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post("/account/sessions/end", data={"csrf_token": token})


def request_reset(client, csrf_token, email=EMAIL):
    token = csrf_token(client.get("/auth/reset").get_data(as_text=True))
    return client.post("/auth/reset", data={"csrf_token": token, "email": email})


def reset_link(mail_server, email="ada@example.com", count=1):
    """The path and query of the link in the newest of ``count`` reset mails to ``email``."""
    return mailed_link(mail_server, "/auth/reset/new", email, count)


def confirmation_link(mail_server, email="ada@example.com", count=1):
    return mailed_link(mail_server, "/auth/confirm", email, count)


def mailed_link(mail_server, path, email, count):
    """The path and query of the link to ``path`` in the newest of ``count``
    mails to ``email`` that carry one."""
    pattern = re.compile(r"https://localhost(" + re.escape(path) + r"\?token=[A-Za-z0-9._-]+)")
    mails = mail_server.wait_for(email, count, having=pattern)
    return pattern.search(mails[-1].text()).group(1)


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


def change_address(client, csrf_token, email, current=PASSWORD):
    token = csrf_token(client.get("/account/email").get_data(as_text=True))
    return client.post(
        "/account/email", data={"csrf_token": token, "email": email, "current": current}
    )


def address_change_link(mail_server, email, count=1):
    return mailed_link(mail_server, "/account/email/confirm", email, count)


def use_address_change_link(client, csrf_token, link):
    """Open the mailed link and press its button."""
    page = client.get(link)
    if page.status_code != 200:
        return page
    html = page.get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([^"]+)"', html).group(1)
    return client.post(
        "/account/email/confirm", data={"csrf_token": csrf_token(html), "token": token}
    )


def delete_account(client, csrf_token, current=PASSWORD):
    token = csrf_token(client.get("/account/delete").get_data(as_text=True))
    return client.post("/account/delete", data={"csrf_token": token, "current": current})
