"""Revision 0002 on a database that already holds accounts."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from staff_portal.extensions import db
from staff_portal.models import User

from .support import MIGRATIONS

INSERT_USER = "INSERT INTO users (issuer, subject) VALUES ('https://idp.example', :subject)"


def test_existing_accounts_get_an_auth_key_each(app):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="0001")
        with db.engine.begin() as connection:
            for subject in ("ada", "grace"):
                connection.execute(text(INSERT_USER), {"subject": subject})
        upgrade(directory=MIGRATIONS)

        users = db.session.scalars(select(User)).all()
        assert len({user.auth_key for user in users}) == 2
        assert all(len(user.auth_key) >= 43 for user in users)
