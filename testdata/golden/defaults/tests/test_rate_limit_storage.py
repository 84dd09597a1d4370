"""Rate-limit counters survive worker recycling and are shared by every
worker; switching rate limiting off does not break the app."""

import os
import sqlite3
import time

import pytest

from demo import ratelimit_store
from demo.extensions import limiter
from demo.ratelimit_store import (
    CountersBusy,
    SQLiteStorage,
)

PROCESSES = 4
HITS = 50


@pytest.fixture
def storage(tmp_path):
    return SQLiteStorage(f"sqlite://{tmp_path / 'counters' / 'rate-limits.sqlite3'}")


def test_rate_limiting_can_be_switched_off(make_app):
    # Flask-Limiter's documented RATELIMIT_ENABLED=False used to crash create_app.
    app = make_app(RATELIMIT_ENABLED=False)
    assert app.test_client().get("/").status_code == 200
    assert not limiter.enabled
    # The next app is limited again: the one limiter does not keep the choice.
    make_app()
    assert limiter.enabled


def test_counters_are_shared_between_processes(storage):
    # The parent opens the file first: each forked child must open its own.
    assert storage.incr("guesses", 60) == 1
    children = []
    for _ in range(PROCESSES):
        pid = os.fork()
        if pid == 0:  # the child: report through the exit status only
            try:
                for _ in range(HITS):
                    storage.incr("guesses", 60)
            except BaseException:
                os._exit(1)
            os._exit(0)
        children.append(pid)
    for pid in children:
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    # No hit lost, whichever process counted it.
    assert storage.get("guesses") == 1 + PROCESSES * HITS


def test_an_expired_counter_starts_again(storage):
    assert storage.incr("guesses", 1) == 1
    assert storage.incr("guesses", 1) == 2
    assert storage.get_expiry("guesses") > time.time()
    time.sleep(1.1)
    assert storage.get("guesses") == 0
    assert storage.incr("guesses", 1) == 1
    storage.clear("guesses")
    assert storage.get("guesses") == 0


def test_a_counters_file_locked_too_long_refuses_the_hit_with_503(storage, monkeypatch):
    # Another worker holds the write lock past the busy timeout (a host too
    # loaded to finish its writes): the hit is refused as a busy server,
    # neither let through uncounted nor a 500.
    monkeypatch.setattr(ratelimit_store, "BUSY_TIMEOUT_SECONDS", 0.1)
    assert storage.incr("guesses", 60) == 1
    holder = sqlite3.connect(storage.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(CountersBusy) as refused:
            storage.incr("guesses", 60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert refused.value.code == 503
    assert dict(refused.value.get_headers())["Retry-After"] == "2"
    # The refused hit was not counted; the next one is.
    assert storage.incr("guesses", 60) == 2


def test_the_counter_directory_must_be_private(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    storage = SQLiteStorage(f"sqlite://{shared / 'rate-limits.sqlite3'}")
    with pytest.raises(PermissionError):
        storage.incr("guesses", 60)
