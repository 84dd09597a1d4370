"""Password hashing with argon2id.

argon2-cffi's defaults (RFC 9106 low-memory profile: 64 MiB, 3 passes,
4 lanes) exceed the OWASP minimums. When they change, check_needs_rehash
lets the next successful log-in upgrade the stored hash.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


@cache
def _decoy_hash() -> str:
    return hasher.hash("decoy password, never valid for an account")


def spend_verification_time(password: str) -> None:
    """Do the work of a real verification, so a log-in for an unknown email
    takes as long as one with a wrong password (no account enumeration by timing)."""
    verify_password(_decoy_hash(), password)
