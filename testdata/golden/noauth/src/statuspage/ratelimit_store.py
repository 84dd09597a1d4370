"""Rate-limit counters in a SQLite file, for production without a cache server.

In-memory counters live in one worker process: gunicorn's other workers do
not see them, and a recycled or replaced worker starts from zero, so a
client could buy fresh log-in guesses by flooding any page. Every worker of
one server (one host, one pod) opens this one file instead. Each change is
one write transaction (BEGIN IMMEDIATE, WAL, a busy timeout), so concurrent
workers never lose a count. A hit that cannot take the write lock within the
busy timeout (a host too loaded for the other workers to finish their
writes) is refused as a busy server, 503 with Retry-After: never let through
uncounted, never a 500. Supports the fixed-window strategy (the default).

The URI names the file: sqlite:///ABSOLUTE/PATH. Its directory is created
private to this user (0700) and refused if anyone else could write to it.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from limits.storage import Storage
from werkzeug.exceptions import ServiceUnavailable

SCHEME = "sqlite"
FILE_NAME = "rate-limits.sqlite3"
# Held while a connection is opened, beside the counters file.
OPENING_LOCK_NAME = "opening.lock"
BUSY_TIMEOUT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 2
# Expired counters are deleted at most this often per process.
PURGE_INTERVAL_SECONDS = 60.0

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS counters ("
    " key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)"
)
# One statement, so the read and the write happen under one write lock:
# an expired counter starts again from this hit, a live one grows.
_INCREMENT = (
    "INSERT INTO counters (key, value, expires) VALUES (:key, :amount, :expires)"
    " ON CONFLICT (key) DO UPDATE SET"
    " value = CASE WHEN expires <= :now THEN :amount ELSE value + :amount END,"
    " expires = CASE WHEN expires <= :now THEN :expires ELSE expires END"
    " RETURNING value"
)


class CountersBusy(ServiceUnavailable):
    """The counters file stayed locked for the whole busy timeout. An
    HTTPException: the error pages answer 503 with its Retry-After."""

    description = "The server is busy. Please try again in a moment."

    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_SECONDS)


def default_uri(project_name: str) -> str:
    """A file in the temporary directory (writable in every deployment: the
    container's /tmp, systemd's PrivateTmp), one per project and user."""
    directory = Path(tempfile.gettempdir()) / f"{project_name}-rate-limits-{os.getuid()}"
    return f"{SCHEME}://{directory / FILE_NAME}"


def _private_directory(directory: Path) -> None:
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = directory.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.getuid()
        or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    ):
        raise PermissionError(f"{directory} must be a directory only this user can write to")


@contextmanager
def _held(lock_path: Path) -> Iterator[None]:
    """An exclusive lock on lock_path (flock: every process and every open
    of the file), given up as CountersBusy after the busy timeout."""
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CountersBusy from None
                time.sleep(0.005)
        yield
    finally:
        os.close(descriptor)  # releases the lock


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class SQLiteStorage(Storage):
    """A limits storage whose counters every process on this host shares."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_: object):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        path = urlsplit(uri or "").path
        if not path.startswith("/"):
            raise ValueError(f"{SCHEME}:// needs an absolute file path, got {uri!r}")
        self.path = Path(path)
        self._local = threading.local()
        self._next_purge = 0.0
        # Opened lazily: gunicorn creates the app in the master and forks,
        # and an SQLite connection must never cross a fork.
        self._inherited: list[sqlite3.Connection] = []

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        if getattr(self._local, "pid", None) != pid:
            if getattr(self._local, "connection", None) is not None:
                # Opened before a fork: keep it referenced (never closed here,
                # never used) so the child cannot disturb the parent's file.
                self._inherited.append(self._local.connection)
            self._local.connection = self._open()
            self._local.pid = pid
        return self._local.connection

    def _open(self) -> sqlite3.Connection:
        _private_directory(self.path.parent)
        # The first connections to a new file (every worker's threads at once,
        # after a deploy) race to switch it to WAL, and SQLite refuses that
        # switch at once, without waiting out the busy timeout, while another
        # connection holds the file: one opening at a time, across processes.
        with _held(self.path.parent / OPENING_LOCK_NAME):
            connection = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None
            )
            try:
                connection.execute("PRAGMA journal_mode=WAL")
                # Counters are disposable: no fsync per hit.
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute(_SCHEMA)
            except BaseException as error:
                connection.close()
                if isinstance(error, sqlite3.OperationalError) and _busy(error):
                    raise CountersBusy from error
                raise
        return connection

    def _write(self, sql: str, parameters: dict[str, object]) -> list[tuple]:
        connection = self._connection()
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if _busy(error):
                raise CountersBusy from error
            raise
        try:
            rows = connection.execute(sql, parameters).fetchall()
            now = time.time()
            if now >= self._next_purge:
                self._next_purge = now + PURGE_INTERVAL_SECONDS
                connection.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        return rows

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        rows = self._write(
            _INCREMENT, {"key": key, "amount": amount, "expires": now + expiry, "now": now}
        )
        return int(rows[0][0])

    def _live_row(self, key: str) -> tuple[int, float] | None:
        try:
            row = (
                self._connection()
                .execute(
                    "SELECT value, expires FROM counters WHERE key = ? AND expires > ?",
                    (key, time.time()),
                )
                .fetchone()
            )
        except sqlite3.OperationalError as error:
            if _busy(error):
                raise CountersBusy from error
            raise
        return None if row is None else (int(row[0]), float(row[1]))

    def get(self, key: str) -> int:
        row = self._live_row(key)
        return 0 if row is None else row[0]

    def get_expiry(self, key: str) -> float:
        row = self._live_row(key)
        return time.time() if row is None else row[1]

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except (sqlite3.Error, OSError):
            return False
        return True

    def reset(self) -> int | None:
        rows = self._write("DELETE FROM counters RETURNING key", {})
        return len(rows)

    def clear(self, key: str) -> None:
        self._write("DELETE FROM counters WHERE key = :key", {"key": key})
