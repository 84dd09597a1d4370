"""Rate-limit counters survive worker recycling and are shared by every
worker; switching rate limiting off does not break the app."""

import os
import sqlite3
import threading
import time

import pytest

from orders_api import ratelimit_store
from orders_api.extensions import limiter
from orders_api.ratelimit_store import (
    CountersBusy,
    SQLiteStorage,
)

PROCESSES = 4
HITS = 50
# Fresh files, each hit first by every thread of every process at once.
FRESH_FILES = 20
THREADS = 8


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


def _first_hits(path, start_at: float) -> None:
    """THREADS threads of this process open the file and count one hit each,
    all at start_at; any error fails the process."""
    storage = SQLiteStorage(f"sqlite://{path}")
    failed = threading.Event()

    def hit() -> None:
        time.sleep(max(0.0, start_at - time.time()))
        try:
            storage.incr("guesses", 60)
        except BaseException:
            failed.set()

    threads = [threading.Thread(target=hit) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os._exit(1 if failed.is_set() else 0)


def test_the_first_hits_on_a_new_counters_file_all_count(tmp_path):
    # After a deploy, every worker's threads open the new file at once. The
    # switch to WAL used to fail some of them at once with "database is
    # locked" (a 500) instead of waiting: 6 files in 40 before the fix.
    for round_ in range(FRESH_FILES):
        path = tmp_path / f"counters-{round_}" / "rate-limits.sqlite3"
        start_at = time.time() + 0.05
        children = []
        for _ in range(PROCESSES):
            pid = os.fork()
            if pid == 0:
                try:
                    _first_hits(path, start_at)
                finally:
                    os._exit(1)
            children.append(pid)
        statuses = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
        assert statuses == [0] * PROCESSES, f"file {round_}: a first hit failed"
        assert SQLiteStorage(f"sqlite://{path}").get("guesses") == PROCESSES * THREADS


def test_a_counters_file_locked_while_opening_refuses_the_hit_with_503(tmp_path, monkeypatch):
    # The file is held past the busy timeout while a worker first opens it:
    # a busy server (503), not a 500.
    monkeypatch.setattr(ratelimit_store, "BUSY_TIMEOUT_SECONDS", 0.1)
    directory = tmp_path / "counters"
    directory.mkdir(mode=0o700)
    holder = sqlite3.connect(directory / "rate-limits.sqlite3", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    storage = SQLiteStorage(f"sqlite://{directory / 'rate-limits.sqlite3'}")
    try:
        with pytest.raises(CountersBusy):
            storage.incr("guesses", 60)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert storage.incr("guesses", 60) == 1


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
