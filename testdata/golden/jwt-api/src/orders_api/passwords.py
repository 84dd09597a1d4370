"""Password hashing with argon2id, a bounded number of hashes at a time.

argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes,
4 lanes) exceed the OWASP minimums. When they change, check_needs_rehash
lets the next successful log-in upgrade the stored hash.

Each hash holds 64 MiB while it runs, so a flood of log-ins could run as
many at once as the server has threads and push a worker past its memory
limit. At most PASSWORD_HASHING_CONCURRENCY hashes run at once in a process;
another waits at most PASSWORD_HASHING_WAIT_SECONDS for a slot, then gets 503
with Retry-After (HashingBusy) instead of queueing without bound.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context
from werkzeug.exceptions import ServiceUnavailable

from .password_policy import MAX_PASSWORD_LENGTH

hasher = PasswordHasher()

DEFAULT_CONCURRENCY = 1
DEFAULT_WAIT_SECONDS = 1.0
RETRY_AFTER_SECONDS = 2
_EXTENSION = "password_hashing_slots"
# Outside an app (a script, a shell), one process-wide bound of the default size.
_default_slots = threading.BoundedSemaphore(DEFAULT_CONCURRENCY)
_slots_created = threading.Lock()

Result = TypeVar("Result")


class HashingBusy(ServiceUnavailable):
    """Every hashing slot stayed taken for the whole wait. An HTTPException:
    the error pages answer 503 with its Retry-After, in HTML or in JSON."""

    description = "The server is busy. Please try again in a moment."

    def __init__(self) -> None:
        super().__init__(retry_after=RETRY_AFTER_SECONDS)


def _slots() -> threading.BoundedSemaphore:
    if not has_app_context():
        return _default_slots
    extensions = current_app.extensions
    slots = extensions.get(_EXTENSION)
    if slots is None:
        with _slots_created:
            slots = extensions.setdefault(
                _EXTENSION,
                threading.BoundedSemaphore(current_app.config["PASSWORD_HASHING_CONCURRENCY"]),
            )
    return slots


def _wait_seconds() -> float:
    if not has_app_context():
        return DEFAULT_WAIT_SECONDS
    return float(current_app.config["PASSWORD_HASHING_WAIT_SECONDS"])


@contextmanager
def hashing_slot() -> Iterator[None]:
    """Hold one of this process's hashing slots, or raise HashingBusy."""
    slots = _slots()
    if not slots.acquire(timeout=_wait_seconds()):
        if has_app_context():
            current_app.logger.warning(
                "password hashing busy; request refused",
                extra={"event": "password_hashing_busy"},
            )
        raise HashingBusy
    try:
        yield
    finally:
        slots.release()


def _bounded(work: Callable[[], Result]) -> Result:
    with hashing_slot():
        return work()


def hash_password(password: str) -> str:
    return _bounded(lambda: hasher.hash(password))


def verify_password(password_hash: str, password: str) -> bool:
    # Bounded hashing work whatever the caller passes: no stored password is
    # longer, so the cut can only turn a wrong password into another wrong one.
    password = password[: MAX_PASSWORD_LENGTH + 1]

    def verify() -> bool:
        try:
            return hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    return _bounded(verify)


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash() -> str:
    # Made once (a refusal is not cached), through the same bound as every hash.
    return hash_password("decoy password, never valid for an account")


def spend_verification_time(password: str) -> None:
    """Do the work of a real verification, so a log-in for an unknown email
    takes as long as one with a wrong password (no account enumeration by
    timing). It takes a hashing slot like any verification, so under load an
    unknown email is refused exactly like a known one."""
    verify_password(_decoy_hash(), password)
