"""Helpers that drive the account forms like a browser."""

EMAIL = "Ada@Example.com"
PASSWORD = "correct horse battery staple"


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
