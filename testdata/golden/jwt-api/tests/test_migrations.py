"""The committed migrations build exactly the schema the models describe,
and can be undone and redone."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from orders_api.extensions import db

from .support import MIGRATIONS


def _differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), db.metadata)


def test_migrations_match_the_models(app):
    assert _differences(app) == []


def test_migrations_downgrade_and_upgrade_again(app):
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision="base")
        upgrade(directory=MIGRATIONS)
    assert _differences(app) == []


def test_sqlite_tables_never_reuse_ids(app):
    # compare_metadata does not look at AUTOINCREMENT: read the table's SQL.
    with app.app_context(), db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            return
        for table in db.metadata.sorted_tables:
            assert table.kwargs.get("sqlite_autoincrement"), table.name
            sql = connection.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
                {"name": table.name},
            ).scalar_one()
            assert "AUTOINCREMENT" in sql, table.name
