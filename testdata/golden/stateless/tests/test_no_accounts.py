"""With auth=none there are no accounts, no log-in pages and no token API."""

import pytest


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/register", "/auth/logout", "/account", "/api/v1/me"]
)
def test_no_account_pages(client, path):
    assert client.get(path).status_code == 404
