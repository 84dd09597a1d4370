"""With auth=none there are no accounts and no log-in pages."""

import pytest
from sqlalchemy import inspect


@pytest.mark.parametrize("path", ["/auth/login", "/auth/register", "/auth/logout", "/account"])
def test_no_account_pages(client, path):
    assert client.get(path).status_code == 404


def test_no_user_table(app):
    from flask_sqlalchemy import SQLAlchemy

    db: SQLAlchemy = app.extensions["sqlalchemy"]
    with app.app_context():
        assert "users" not in inspect(db.engine).get_table_names()

