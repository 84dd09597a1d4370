"""Secrets the app must read back (TOTP secrets), encrypted at rest.

A copy of the database (a backup, a replica, an injection that reads rows)
yields ciphertext only: the keys live in the environment, in ENCRYPTION_KEYS,
newest first. Each key is stretched with HKDF-SHA256 into a Fernet key
(AES-128-CBC with HMAC-SHA256, authenticated, so a changed value is refused,
not misread). The first key encrypts; every listed key decrypts.

Rotating without downtime (README "Rotating keys"): put a new key first and
keep the old ones after it, deploy, run `flask keys reencrypt`, then drop the
old keys. Values written before the deploy still read; values written after
it use the new key.
"""

from __future__ import annotations

import base64

import click
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .models import User

# Binds a derived key to this use: the same environment value used elsewhere
# (by mistake) would not yield the same key.
_KEY_PURPOSE = b"stored-secrets v1"


class UnreadableSecretError(RuntimeError):
    """A stored value that no key in ENCRYPTION_KEYS opens: the key that wrote
    it was dropped too early, or the value was changed in the database."""


def encrypt(plaintext: str) -> str:
    return _ring().encrypt(plaintext.encode()).decode("ascii")


def decrypt(ciphertext: str, max_age: int | None = None) -> str:
    """The plaintext of CIPHERTEXT; with MAX_AGE, only if it was encrypted
    at most that many seconds ago."""
    try:
        return _ring().decrypt(ciphertext.encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, UnicodeError) as error:
        raise UnreadableSecretError(
            "a stored secret opens with none of ENCRYPTION_KEYS (was an old key dropped "
            "before `flask keys reencrypt` ran?), or is too old"
        ) from error


def reencrypt_all() -> int:
    """Encrypt every stored secret again with the first key; the number of
    values rewritten. Safe to run while the app serves: each row is rewritten
    in a transaction of its own (no account waits on the whole run), and only
    if it still holds the value that was read."""
    ring = _ring()
    rewritten = 0
    rows = db.session.execute(
        select(User.id, User.totp_secret).where(User.totp_secret.is_not(None))
    ).all()
    db.session.commit()
    for user_id, old in rows:
        try:
            new = ring.rotate(old.encode("ascii")).decode("ascii")
        except InvalidToken as error:
            raise UnreadableSecretError(
                f"the TOTP secret of account {user_id} opens with no key"
            ) from error
        rewritten += db.session.execute(
            User.__table__.update()
            .where(User.id == user_id, User.totp_secret == old)
            .values(totp_secret=new)
        ).rowcount
        db.session.commit()
    return rewritten


def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=SHA256(), length=32, salt=None, info=_KEY_PURPOSE).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _ring() -> MultiFernet:
    return MultiFernet([_fernet(key) for key in current_app.config["ENCRYPTION_KEYS"]])


keys = AppGroup("keys", help="Encryption keys of stored secrets (ENCRYPTION_KEYS).")


@keys.command("reencrypt")
def reencrypt_command() -> None:
    """Encrypt every stored secret with the first key of ENCRYPTION_KEYS."""
    try:
        count = reencrypt_all()
    except UnreadableSecretError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"re-encrypted {count} stored secret(s) with the first key of ENCRYPTION_KEYS")
