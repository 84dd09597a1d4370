"""Helpers that call the account API the way a client program does."""

import re

EMAIL = "Ada@Example.com"
PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "tulip anvil orbit seventeen"


def register(client, email=EMAIL, password=PASSWORD, confirmed=True):
    """Register; ``confirmed`` then marks the address confirmed in the
    database, as using the mailed link would (the tests of that link use it
    for real)."""
    response = client.post("/api/v1/auth/register", json={"email": email, "password": password})
    if confirmed and response.status_code == 202:
        mark_confirmed(client.application, email)
    return response


def mark_confirmed(app, email):
    import importlib

    from sqlalchemy import func, update

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


def log_in(client, email=EMAIL, password=PASSWORD, device_token=None, scope=None):
    body = {"email": email, "password": password}
    if device_token is not None:
        body["device_token"] = device_token
    if scope is not None:
        body["scope"] = scope
    return client.post("/api/v1/auth/token", json=body)


def tokens(client, email=EMAIL, password=PASSWORD, scope=None) -> dict:
    """Register, log in (asking for SCOPE, or every scope), and return the
    token response."""
    register(client, email, password)
    response = log_in(client, email, password, scope=scope)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mailed_token(mail_server, page, email="ada@example.com", count=1):
    """The token of the link to the client's PAGE in the newest of ``count``
    mails to ``email`` that carry one."""
    pattern = re.compile(r"http://localhost:3000/" + re.escape(page) + r"\?token=([A-Za-z0-9._-]+)")
    mails = mail_server.wait_for(email, count, having=pattern)
    return pattern.search(mails[-1].text()).group(1)
