"""With auth=none there are no accounts, no log-in pages and no token API."""

import pytest
from sqlalchemy import inspect

from statuspage.extensions import db


@pytest.mark.parametrize(
    "path", ["/auth/login", "/auth/register", "/auth/logout", "/account", "/api/v1/me"]
)
def test_no_account_pages(client, path):
    assert client.get(path).status_code == 404


def test_no_user_table(app):
    with app.app_context():
        assert "users" not in inspect(db.engine).get_table_names()
