"""Revision 0005 on a database that already holds refresh tokens."""

from datetime import UTC, datetime, timedelta

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from orders_api.extensions import db
from orders_api.models import RefreshToken

from .support import MIGRATIONS

INSERT_USER = "INSERT INTO users (email, password_hash, auth_key) VALUES ('ada@x', 'x', 'k')"
INSERT_TOKEN = (
    "INSERT INTO refresh_tokens (user_id, auth_key, token_hash, family, expires_at)"
    " VALUES (:user_id, 'k', :token_hash, :family, :expires_at)"
)
# A NULL given explicitly: every database refuses it as a constraint violation.
INSERT_TOKEN_WITHOUT_AN_END = (
    "INSERT INTO refresh_tokens"
    " (user_id, auth_key, token_hash, family, expires_at, family_expires_at, scope)"
    " VALUES (:user_id, 'k', :token_hash, :family, :expires_at, NULL, 'account')"
)


def test_a_family_from_before_ends_with_its_token(app):
    expires_at = datetime(2030, 1, 2, 3, 4, 5)
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0004")
        with db.engine.connect() as connection:
            connection.execute(text(INSERT_USER))
            user_id = connection.execute(text("SELECT id FROM users")).scalar_one()
            connection.execute(
                text(INSERT_TOKEN),
                {
                    "user_id": user_id,
                    "token_hash": "a" * 64,
                    "family": "f" * 32,
                    "expires_at": expires_at,
                },
            )
            connection.commit()
        upgrade(directory=MIGRATIONS)

        token = db.session.scalars(select(RefreshToken)).one()
        assert token.family_expires_at == token.expires_at
        db.session.rollback()
        downgrade(directory=MIGRATIONS, revision="0004")
        with db.engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM refresh_tokens")).keys()
            assert "family_expires_at" not in columns
        upgrade(directory=MIGRATIONS)


def test_the_end_is_required_in_the_database(app):
    later = datetime.now(UTC) + timedelta(days=1)
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text(INSERT_USER))
        user_id = connection.execute(text("SELECT id FROM users")).scalar_one()
        with pytest.raises(IntegrityError):
            connection.execute(
                text(INSERT_TOKEN_WITHOUT_AN_END),
                {
                    "user_id": user_id,
                    "token_hash": "b" * 64,
                    "family": "g" * 32,
                    "expires_at": later,
                },
            )
