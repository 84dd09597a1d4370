"""Drive the log-in round trip the way a browser would: app, provider, app."""

from __future__ import annotations

import html
import re
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


def post_from_account_page(client, csrf_token, path):
    token = csrf_token(client.get("/account").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token})


def ask_for_deletion(client, csrf_token) -> str:
    """Ask to delete the account; return the provider URL the page links to."""
    page = post_from_account_page(client, csrf_token, "/account/delete")
    assert page.status_code == 200
    link = re.search(r'<a class="reauthenticate" href="([^"]+)"', page.get_data(as_text=True))
    return html.unescape(link.group(1))


def delete_with_a_new_log_in(client, csrf_token):
    """Delete the account as its owner does: ask, then log in again at the provider."""
    return finish(client, at_provider(ask_for_deletion(client, csrf_token)))
