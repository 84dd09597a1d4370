"""Database models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    LargeBinary,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .roles import STAFF


def new_auth_key() -> str:
    """A random value that ties sessions to one account: the id alone is not
    enough, as a deleted account's id could be handed to the next one."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    # SQLite would otherwise hand a deleted account's id to the next one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored in lower case and Unicode NFC (addresses.normalize_email): look-ups are exact.
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # Part of the session's user id (get_id); a new one ends every session.
    auth_key: Mapped[str] = mapped_column(String(64), default=new_auth_key)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when the owner of the address followed the confirmation link (or a
    # reset link); until then the account cannot log in.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor log-in (two_factor.py): the TOTP secret, encrypted at rest
    # (stored_secrets.py), and the last time step a code was accepted for, so
    # no code is accepted twice. No secret: two-factor log-in is off.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A key of roles.ROLES: what the account may do beyond its own pages.
    role: Mapped[str] = mapped_column(String(20), default="user", server_default="user")
    # Set by an admin (admin.py): the account cannot log in, and its sessions end.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The account's user handle for passkeys (passkeys.py), 64 random bytes in
    # base64url, made with its first passkey: authenticators hold it instead
    # of the id or the address, which would tell whoever reads it who this is.
    passkey_user_id: Mapped[str | None] = mapped_column(String(86))

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_key}"

    @property
    def is_staff(self) -> bool:
        """Whether the role opens the admin pages (roles.STAFF)."""
        return self.role in STAFF

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    def end_all_sessions(self) -> None:
        """Every session and remember cookie of this account stops working
        (with any cache choice: each one carries the old key)."""
        self.auth_key = new_auth_key()

    def disable(self) -> None:
        """The account can no longer log in, and its open sessions end now
        (load_user refuses a disabled account too)."""
        self.disabled_at = datetime.now(UTC)
        self.end_all_sessions()


class SecurityEvent(db.Model):
    """Something that happened to an account's security (security_events.py),
    shown to its owner on the account page. Deleted with the account."""

    __tablename__ = "security_events"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # The client address as the app saw it (after FORWARDED_PROXIES), if any.
    client: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )


class RecoveryCode(db.Model):
    """A single-use code that stands in for a TOTP code (two_factor.py).
    Only its SHA-256 digest is stored: the code is random (80 bits) and shown
    once. Deleted when used, when new codes are made, with two-factor log-in
    and with the account."""

    __tablename__ = "recovery_codes"
    __table_args__ = (
        UniqueConstraint("user_id", "digest"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique constraint's index, led by user_id, serves look-ups by account.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    digest: Mapped[str] = mapped_column(String(64))


class Passkey(db.Model):
    """A passkey (passkeys.py): the public key of a key pair that an
    authenticator (a phone, a security key, a password manager) keeps for
    this site, registered by the account's owner. Deleted with the account."""

    __tablename__ = "passkeys"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The authenticator's id of the key (up to 1023 bytes), found by its
    # SHA-256 digest, which every database can index.
    credential_id: Mapped[bytes] = mapped_column(LargeBinary)
    credential_digest: Mapped[str] = mapped_column(String(64), unique=True)
    # COSE-encoded public key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The authenticator's signature counter at the last log-in: a lower or
    # equal one later means a cloned key (synced passkeys always send 0).
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(60))
    # Whether the authenticator says the key is backed up (synced), as shown to the owner.
    backed_up: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=lambda: datetime.now(UTC)
    )
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
