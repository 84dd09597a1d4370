"""Helpers that call the account API the way a client program does."""

EMAIL = "Ada@Example.com"
PASSWORD = "correct horse battery staple"


def register(client, email=EMAIL, password=PASSWORD):
    return client.post("/api/v1/auth/register", json={"email": email, "password": password})


def log_in(client, email=EMAIL, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"email": email, "password": password})


def tokens(client, email=EMAIL, password=PASSWORD) -> dict:
    """Register, log in, and return the token response."""
    register(client, email, password)
    response = log_in(client, email, password)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
