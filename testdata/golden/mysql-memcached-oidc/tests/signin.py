"""Drive the log-in round trip the way a browser would: app, provider, app."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests


def start(client, query: str = "") -> str:
    """Ask the app to log in; return the provider URL it redirects to."""
    response = client.get("/auth/login" + query)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def at_provider(authorize_url: str) -> str:
    """The user signs in at the provider; return the callback URL it sends them to."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def finish(client, callback_url: str):
    parts = urlsplit(callback_url)
    return client.get(parts.path + "?" + parts.query)


def sign_in(client, query: str = ""):
    return finish(client, at_provider(start(client, query)))


def query_of(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
