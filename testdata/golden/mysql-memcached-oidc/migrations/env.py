"""Alembic environment, driven by Flask-Migrate and the app's SQLAlchemy engine."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config

# Keep the application's loggers alive: fileConfig disables every logger it
# does not name unless told otherwise.
fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

target_db = current_app.extensions["migrate"].db
config.set_main_option(
    "sqlalchemy.url", target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%")
)


def run_migrations_offline():
    """Emit SQL to stdout instead of running it (flask db upgrade --sql)."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_db.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    def skip_empty_autogenerate(context, revision, directives):
        # No new revision file when the models did not change.
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    conf_args = dict(current_app.extensions["migrate"].configure_args)
    conf_args.setdefault("process_revision_directives", skip_empty_autogenerate)
    with target_db.engine.connect() as connection:
        enforced = _sqlite_foreign_keys_enforced(connection)
        if enforced:
            # SQLite alters a table by copying it and dropping the original;
            # with foreign keys enforced, that drop would delete every row
            # referring to it (ON DELETE CASCADE). Off for the migration only.
            _set_sqlite_foreign_keys(connection, enforced=False)
        try:
            context.configure(
                connection=connection, target_metadata=target_db.metadata, **conf_args
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            if enforced:
                _set_sqlite_foreign_keys(connection, enforced=True)


def _sqlite_foreign_keys_enforced(connection):
    if connection.dialect.name != "sqlite":
        return False
    enforced = bool(connection.exec_driver_sql("PRAGMA foreign_keys").scalar())
    connection.commit()
    return enforced


def _set_sqlite_foreign_keys(connection, enforced):
    # The pragma has no effect inside a transaction: commit around it.
    connection.commit()
    connection.exec_driver_sql("PRAGMA foreign_keys=" + ("ON" if enforced else "OFF"))
    connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
