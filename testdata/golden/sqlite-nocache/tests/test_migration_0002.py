"""Revision 0002 on a database that already holds accounts."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from ledger_api.extensions import db
from ledger_api.models import User

from .support import MIGRATIONS

INSERT_USER = "INSERT INTO users (email, password_hash) VALUES (:email, 'x')"


def test_existing_accounts_get_an_auth_key_each(app):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0001")
        with db.engine.begin() as connection:
            for email in ("ada@x", "grace@x"):
                connection.execute(text(INSERT_USER), {"email": email})
        upgrade(directory=MIGRATIONS)

        users = db.session.scalars(select(User)).all()
        assert len({user.auth_key for user in users}) == 2
        assert all(len(user.auth_key) >= 43 for user in users)
