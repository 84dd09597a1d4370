"""Revision 0007 on a database that already holds accounts."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from orders_api.extensions import db
from orders_api.models import User

from .support import MIGRATIONS

INSERT_USER = "INSERT INTO users (email, password_hash, auth_key) VALUES (:email, 'x', :key)"


def test_accounts_from_before_confirmation_count_as_confirmed(app):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.begin() as connection:
            for email in ("ada@x", "grace@x"):
                connection.execute(text(INSERT_USER), {"email": email, "key": email * 8})
        upgrade(directory=MIGRATIONS)

        users = db.session.scalars(select(User)).all()
        assert len(users) == 2
        assert all(user.email_verified_at is not None for user in users)
        # And back, with the accounts in place (the session's locks released first).
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision="0005")
        with db.engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # The rebuilt table still never reuses ids.
                sql = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'users'")
                ).scalar_one()
                assert "AUTOINCREMENT" in sql
        upgrade(directory=MIGRATIONS)
