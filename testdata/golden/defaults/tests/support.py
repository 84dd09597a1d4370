"""Helpers shared by the tests."""

from __future__ import annotations

import functools
import os
import re
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, delete, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from demo.extensions import db

MIGRATIONS = str(Path(__file__).resolve().parents[1] / "migrations")
TEST_SECRET_KEY = "test-only-secret-key-" + "0123456789abcdef" * 2
BASE_URL = "https://localhost"
# Settings taken from the environment, so the suite can run against real servers.
SERVER_SETTINGS: list[str] = ["DATABASE_URL", "REDIS_URL"]


class BrowserLikeClient(FlaskClient):
    """Requests go to https://localhost with a same-origin Referer, which
    Flask-WTF's strict CSRF check requires over HTTPS.

    Each client has its own loopback address, so rate-limit counters of one
    test never reach the next when they share a real Redis (Flask-Limiter is
    one object per process, whatever the number of apps)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        octets = secrets.token_bytes(3)
        self.environ_base["REMOTE_ADDR"] = "127." + ".".join(str(b) for b in octets)

    def open(self, *args, **kwargs):
        # Read each response whole and close it, as a server does, so work
        # the app leaves for after the response (mail) runs.
        kwargs.setdefault("buffered", True)
        if args and isinstance(args[0], str):
            kwargs.setdefault("base_url", BASE_URL)
            headers = dict(kwargs.pop("headers", None) or {})
            headers.setdefault("Referer", BASE_URL + "/")
            kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def base_environ(tmp_path: Path) -> dict[str, str]:
    """Test settings: a throw-away SQLite file unless DATABASE_URL points at
    a real server; Redis only when REDIS_URL is set."""
    environ = {
        "APP_ENV": "testing",
        "SECRET_KEY": TEST_SECRET_KEY,
        "TRUSTED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'test.sqlite3'}",
    }
    for name in SERVER_SETTINGS:
        if os.environ.get(name):
            environ[name] = os.environ[name]
    return environ


# Running every migration costs about 0.1 s, which once made up half of the
# suite's time. So each database is migrated once a run: a test's SQLite file
# is a copy of the first one migrated, and a server's database whose schema is
# already the latest only loses its rows. One left at another revision, or
# missing a table (a migration test that failed halfway: MariaDB cannot undo
# DDL), has the app's tables dropped and is migrated again.
_migrated_sqlite_file: Path | None = None
_server_databases: set[str] = set()


def migrate(app: Flask) -> None:
    """Bring the app's database to the latest revision, with no rows in it."""
    global _migrated_sqlite_file
    with app.app_context():
        engine = db.engine
        sqlite_file = _sqlite_file(engine)
        if sqlite_file is not None and _is_new(sqlite_file) and _migrated_sqlite_file:
            engine.dispose()
            shutil.copyfile(_migrated_sqlite_file, sqlite_file)
            return
        if sqlite_file is None:
            _server_databases.add(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            at_latest = _schema_is_latest(connection)
            if at_latest:
                _delete_every_row(connection)
            else:
                _drop_app_tables(connection)
        if at_latest:
            return
        fresh = sqlite_file is not None and _is_new(sqlite_file)
        upgrade(directory=MIGRATIONS)
        if fresh and _migrated_sqlite_file is None:
            engine.dispose()
            copy = Path(tempfile.mkdtemp(prefix="migrated-")) / "migrated.sqlite3"
            shutil.copyfile(sqlite_file, copy)
            _migrated_sqlite_file = copy


def release_database(app: Flask) -> None:
    """Close the app's connections; the next migrate() empties its tables."""
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def drop_migrated_databases() -> None:
    """At the end of a run: drop the app's tables (and Alembic's) from each
    server's database the run migrated, and remove the migrated SQLite file."""
    global _migrated_sqlite_file
    for url in sorted(_server_databases):
        engine = create_engine(url)
        try:
            with engine.begin() as connection:
                _drop_app_tables(connection)
        except SQLAlchemyError as error:
            # A server gone by the end must not hide the run's own outcome.
            shown = engine.url.render_as_string(hide_password=True)
            print(f"could not drop the test tables in {shown}: {error}", file=sys.stderr)
        finally:
            engine.dispose()
    _server_databases.clear()
    if _migrated_sqlite_file is not None:
        shutil.rmtree(_migrated_sqlite_file.parent, ignore_errors=True)
        _migrated_sqlite_file = None


def _sqlite_file(engine: Engine) -> Path | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def _is_new(path: Path) -> bool:
    return not path.exists() or path.stat().st_size == 0


@functools.cache
def _latest_revisions() -> set[str]:
    return set(ScriptDirectory(MIGRATIONS).get_heads())


def _schema_is_latest(connection: Connection) -> bool:
    current = set(MigrationContext.configure(connection).get_current_heads())
    if not current or current != _latest_revisions():
        return False
    return {table.name for table in db.metadata.sorted_tables} <= set(
        inspect(connection).get_table_names()
    )


def _delete_every_row(connection: Connection) -> None:
    # Children before parents, so no foreign key refuses a delete.
    for table in reversed(db.metadata.sorted_tables):
        connection.execute(delete(table))


def _drop_app_tables(connection: Connection) -> None:
    # Every table an older revision has is one the models name too, so this
    # also clears a database left at another revision; other tables stay.
    db.metadata.drop_all(bind=connection)
    connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


_CSRF_FIELD = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = _CSRF_FIELD.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)
