"""Revision 0004 on a database that already holds addresses typed with
decomposed letters."""

import secrets

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, select, text
from sqlalchemy.exc import IntegrityError

from ledger_api.extensions import db
from ledger_api.models import User

from .support import MIGRATIONS

PREVIOUS = "0003"
INSERT_USER = "INSERT INTO users (email, password_hash, auth_key) VALUES (:email, 'x', :key)"
# One address: a composed "é" (U+00E9), and "e" with a combining acute (U+0301).
COMPOSED, DECOMPOSED = "zo\u00e9@example.com", "zoe\u0301@example.com"


def insert(*emails):
    with db.engine.begin() as connection:
        for email in emails:
            connection.execute(text(INSERT_USER), {"email": email, "key": secrets.token_hex(16)})


def test_addresses_made_before_are_stored_in_nfc(app):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision=PREVIOUS)
        insert(DECOMPOSED, "ada@example.com", "grace@xn--strae-oqa.de")
        upgrade(directory=MIGRATIONS)
        assert sorted(db.session.scalars(select(User.email))) == [
            "ada@example.com",
            "grace@stra\u00dfe.de",
            COMPOSED,
        ]
        db.session.remove()
        # And back: nothing to undo.
        downgrade(directory=MIGRATIONS, revision=PREVIOUS)
        upgrade(directory=MIGRATIONS)


def test_two_accounts_of_one_address_stop_the_migration_until_one_goes(app, capsys):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision=PREVIOUS)
        try:
            insert(COMPOSED, DECOMPOSED)
        except IntegrityError:
            # This column's collation already held them for one address:
            # no twins to find.
            assert db.engine.dialect.name == "mysql"
            upgrade(directory=MIGRATIONS)
            return
        ids = db.session.scalars(select(User.id).order_by(User.id)).all()
        db.session.remove()
        capsys.readouterr()
        with pytest.raises(SystemExit):
            upgrade(directory=MIGRATIONS)
        # What flask db upgrade prints (migrations/alembic.ini logs to stderr).
        printed = capsys.readouterr().err
        assert f"(ids: {ids[0]}, {ids[1]})" in printed
        assert "delete or change all but one" in printed
        # Nothing changed, and the operator's choice lets it through.
        assert sorted(db.session.scalars(select(User.email))) == sorted([COMPOSED, DECOMPOSED])
        db.session.execute(delete(User).where(User.id == ids[0]))
        db.session.commit()
        db.session.remove()
        upgrade(directory=MIGRATIONS)
        assert db.session.scalars(select(User.email)).all() == [COMPOSED]
