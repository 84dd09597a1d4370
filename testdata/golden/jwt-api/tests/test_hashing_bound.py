"""At most PASSWORD_HASHING_CONCURRENCY argon2 hashes (64 MiB each) run at
once per process; more log-ins are refused fast with 503, so a flood of
log-ins cannot push the server past its memory limit."""

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher

from orders_api import passwords
from orders_api.passwords import (
    HashingBusy,
    hash_password,
    hashing_slot,
    verify_password,
)

from .accounts import EMAIL, PASSWORD, log_in, register
from .live_gunicorn import BEHIND_A_PROXY, ROOT, gunicorn, production_environ

# The bound is about the real 64 MiB hashes, not the suite's cheap ones.
pytestmark = pytest.mark.real_password_hashing

THREADS = 8
# The memory limit of the deployment this project ships (the same number in
# the Kubernetes Deployment, compose.yaml and the systemd unit); used when
# none of those files is here.
DEFAULT_MEMORY_LIMIT_MIB = 512
ARGON2_MIB = 64


class CountingHasher(PasswordHasher):
    """The real hasher, counting how many of its hashes run at once."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most = 0
        self.lock = threading.Lock()

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return super().hash(password, salt=salt)
        finally:
            with self.lock:
                self.running -= 1


def test_at_most_the_configured_number_of_hashes_run_at_once(make_app, monkeypatch):
    app = make_app(PASSWORD_HASHING_CONCURRENCY=2, PASSWORD_HASHING_WAIT_SECONDS=60)
    counting = CountingHasher()
    monkeypatch.setattr(passwords, "hasher", counting)
    start = threading.Barrier(THREADS)
    hashes: list[str] = []

    def one_hash() -> None:
        with app.app_context():
            start.wait()
            hashes.append(hash_password(PASSWORD))

    threads = [threading.Thread(target=one_hash) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(hashes) == THREADS
    assert counting.most == 2


@contextmanager
def every_slot_taken(app) -> Iterator[None]:
    """Other threads hold every hashing slot of ``app`` until the block ends."""
    count = app.config["PASSWORD_HASHING_CONCURRENCY"]
    held = threading.Barrier(count + 1)
    done = threading.Event()

    def hold() -> None:
        with app.app_context(), hashing_slot():
            held.wait()
            done.wait()

    threads = [threading.Thread(target=hold) for _ in range(count)]
    for thread in threads:
        thread.start()
    held.wait()
    try:
        yield
    finally:
        done.set()
        for thread in threads:
            thread.join()


def test_one_more_hash_is_refused_within_the_wait(make_app):
    app = make_app(PASSWORD_HASHING_CONCURRENCY=2, PASSWORD_HASHING_WAIT_SECONDS=0.3)
    hashed = hash_password(PASSWORD)
    with every_slot_taken(app), app.app_context():
        started = time.monotonic()
        with pytest.raises(HashingBusy):
            verify_password(hashed, PASSWORD)
        assert 0.3 <= time.monotonic() - started < 2
    with app.app_context():
        assert verify_password(hashed, PASSWORD)


def test_a_busy_log_in_gets_503_with_retry_after(make_app, caplog, monkeypatch):
    app = make_app(migrated=True, PASSWORD_HASHING_WAIT_SECONDS=0)
    client = app.test_client()
    assert register(client).status_code == 202
    # The app's logger does not propagate; listen to it for this test only.
    monkeypatch.setattr(app.logger, "handlers", [*app.logger.handlers, caplog.handler])
    with every_slot_taken(app):
        # A known and an unknown email are refused alike (no enumeration).
        for email in (EMAIL, "nobody@example.com"):
            response = log_in(client, email=email)
            assert response.status_code == 503
            assert response.headers["Retry-After"] == "2"
            assert "busy" in response.get_json()["error"]
    assert any(getattr(r, "event", None) == "password_hashing_busy" for r in caplog.records)
    assert log_in(client).status_code == 200


def memory_limit_mib() -> float:
    """The limit the generated deployment sets, read from its own file."""
    for path, pattern in (
        ("deploy/kubernetes/base/deployment.yaml", r"limits:\s*\n\s*memory:\s*(\d+)Mi"),
        ("compose.yaml", r"mem_limit:\s*(\d+)m"),
        (
            "deploy/vm/orders-api.service",
            r"MemoryMax=(\d+)M",
        ),
    ):
        if (ROOT / path).exists():
            match = re.search(pattern, (ROOT / path).read_text())
            assert match, f"no memory limit in {path}"
            return float(match.group(1))
    return DEFAULT_MEMORY_LIMIT_MIB


# More clients than the 2 x 4 server threads, so every thread is hashing.
FLOOD_CLIENTS = 12
FLOOD_SECONDS = 2


def _flood_log_in(server, stop: threading.Event, statuses: list[int]) -> None:
    body = json.dumps({"email": "nobody@example.com", "password": PASSWORD}).encode()
    headers = {**BEHIND_A_PROXY, "Content-Type": "application/json"}
    while not stop.is_set():
        answer = server.request("POST", "/api/v1/auth/token", body, headers)
        statuses.append(answer.status)
        if answer.status == 503:
            assert answer.headers["Retry-After"] == "2"


def test_a_log_in_flood_stays_under_the_memory_limit(app, environ, tmp_path):
    # ``app`` has created the tables the log-in reads.
    settings = {
        **production_environ(environ),
        "LOGIN_RATE_LIMIT": "100000 per minute",  # an attacker with many addresses
        # and many target accounts (one account locks strangers out: test_api_login_throttle)
        "ACCOUNT_LOGIN_RATE_LIMIT": "100000 per minute",
        "GUNICORN_MAX_REQUESTS": "0",  # no recycling: keep each worker's peak
    }
    if "REDIS_URL" not in settings:
        pytest.skip("production needs REDIS_URL (a real Redis) to start")
    stop = threading.Event()
    statuses: list[int] = []
    with gunicorn(settings, tmp_path) as server:
        clients = [
            threading.Thread(target=_flood_log_in, args=(server, stop, statuses))
            for _ in range(FLOOD_CLIENTS)
        ]
        for client in clients:
            client.start()
        time.sleep(FLOOD_SECONDS)
        stop.set()
        for client in clients:
            client.join()
        peaks = server.peak_memory_mib()
        output = server.output()
    # Log-ins were answered (401: real verification work) or refused fast (503).
    assert statuses.count(401) > 0, output
    unexpected = sorted(set(statuses) - {401, 503})
    assert not unexpected, f"statuses {unexpected} besides 401 and 503:\n{output}"
    # The sum over-counts the pages the workers share with the master.
    limit = memory_limit_mib()
    assert sum(peaks.values()) < limit, f"peaks {peaks} MiB against a {limit} MiB limit"
    assert max(peaks.values()) > ARGON2_MIB, "no hash ran in a worker"
