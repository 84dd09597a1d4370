"""Revision 0013 on a database that already holds refresh tokens: they keep
everything they could do, and every token from then on names its scopes."""

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
    "INSERT INTO refresh_tokens"
    " (user_id, auth_key, token_hash, family, expires_at, family_expires_at)"
    " VALUES (:user_id, 'k', :token_hash, 'f', :expires_at, :expires_at)"
)
# A NULL given explicitly: every database refuses it as a constraint violation.
INSERT_TOKEN_WITHOUT_SCOPES = (
    "INSERT INTO refresh_tokens"
    " (user_id, auth_key, token_hash, family, expires_at, family_expires_at, scope)"
    " VALUES (:user_id, 'k', :token_hash, 'f', :expires_at, :expires_at, NULL)"
)


def test_tokens_from_before_keep_every_scope_they_had(app):
    later = datetime.now(UTC) + timedelta(days=1)
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0012")
        with db.engine.connect() as connection:
            connection.execute(text(INSERT_USER))
            user_id = connection.execute(text("SELECT id FROM users")).scalar_one()
            connection.execute(
                text(INSERT_TOKEN),
                {"user_id": user_id, "token_hash": "a" * 64, "expires_at": later},
            )
            connection.commit()
        upgrade(directory=MIGRATIONS)

        token = db.session.scalars(select(RefreshToken)).one()
        assert token.scope == "account notes:read notes:write"
        db.session.rollback()
        downgrade(directory=MIGRATIONS, revision="0012")
        with db.engine.connect() as connection:
            columns = connection.execute(text("SELECT * FROM refresh_tokens")).keys()
            assert "scope" not in columns
        upgrade(directory=MIGRATIONS)


def test_the_scopes_are_required_in_the_database(app):
    later = datetime.now(UTC) + timedelta(days=1)
    with app.app_context(), db.engine.connect() as connection:
        connection.execute(text(INSERT_USER))
        user_id = connection.execute(text("SELECT id FROM users")).scalar_one()
        with pytest.raises(IntegrityError):
            connection.execute(
                text(INSERT_TOKEN_WITHOUT_SCOPES),
                {"user_id": user_id, "token_hash": "b" * 64, "expires_at": later},
            )
