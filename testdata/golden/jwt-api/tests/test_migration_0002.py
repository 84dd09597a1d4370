"""Revision 0002 on a database that already holds accounts and tokens."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from orders_api.extensions import db
from orders_api.models import (
    RefreshToken,
    User,
)

from .support import MIGRATIONS

INSERT_USER = "INSERT INTO users (email, password_hash) VALUES (:email, 'x')"
INSERT_TOKEN = (
    "INSERT INTO refresh_tokens (user_id, token_hash, family, expires_at)"
    " VALUES (:user_id, :token_hash, 'family', CURRENT_TIMESTAMP)"
)


def test_existing_accounts_and_tokens_are_bound(app):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0001")
        sqlite = db.engine.dialect.name == "sqlite"
        with db.engine.connect() as connection:
            if sqlite:
                # What SQLite allowed before foreign keys were enforced: the
                # token of a deleted account, whose id a later one could get.
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.execute(text(INSERT_TOKEN), {"user_id": 999, "token_hash": "b" * 64})
            for email in ("ada@x", "grace@x", "gone@x"):
                connection.execute(text(INSERT_USER), {"email": email})
            ids = connection.execute(text("SELECT id FROM users ORDER BY id")).scalars().all()
            connection.execute(text(INSERT_TOKEN), {"user_id": ids[0], "token_hash": "a" * 64})
            connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": ids[2]})
            connection.commit()
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        upgrade(directory=MIGRATIONS)

        users = db.session.scalars(select(User).order_by(User.id)).all()
        assert [user.id for user in users] == ids[:2]
        assert len({user.auth_key for user in users}) == 2
        assert all(len(user.auth_key) >= 43 for user in users)
        # The orphan is gone; the other token is bound to its owner's key.
        token = db.session.scalars(select(RefreshToken)).one()
        assert (token.user_id, token.auth_key) == (ids[0], users[0].auth_key)
