"""Database models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

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
    """A random value that ties tokens to one account: the id alone is not
    enough, as a deleted account's id could be handed to the next one."""
    return secrets.token_urlsafe(32)


class User(db.Model):
    __tablename__ = "users"
    # SQLite would otherwise hand a deleted account's id to the next one.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored in lower case and Unicode NFC (addresses.normalize_email): look-ups are exact.
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # In every access token and refresh token; a new one ends them all.
    auth_key: Mapped[str] = mapped_column(String(64), default=new_auth_key)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Set when the owner of the address used the confirmation link (or a
    # reset link); until then the account gets no tokens.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Two-factor log-in (two_factor.py): the TOTP secret, encrypted at rest
    # (stored_secrets.py), and the last time step a code was accepted for, so
    # no code is accepted twice. No secret: two-factor log-in is off.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A key of roles.ROLES: what the account may do beyond its own data.
    role: Mapped[str] = mapped_column(String(20), default="user", server_default="user")
    # Set while an admin or operator has disabled the account: no log-in,
    # and no token of it is accepted.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The account's user handle for passkeys (passkeys.py), 64 random bytes in
    # base64url: not its id or address, which the authenticator would keep.
    passkey_user_id: Mapped[str | None] = mapped_column(String(86))

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_secret is not None

    @property
    def is_staff(self) -> bool:
        """Whether the role opens the admin API (roles.STAFF)."""
        return self.role in STAFF

    def end_all_log_ins(self) -> None:
        """Every access and refresh token of this account stops working: each
        one carries the old key."""
        self.auth_key = new_auth_key()

    def disable(self) -> None:
        """The account can no longer log in, and every token of it ends now
        (tokens.py refuses a disabled account's tokens too)."""
        self.disabled_at = datetime.now(UTC)
        self.end_all_log_ins()


class RefreshToken(db.Model):
    """One refresh token, stored as a SHA-256 digest (the token itself is
    never stored). Tokens rotate: each use revokes the token and issues the
    next one in the same family; a revoked token coming back means it was
    stolen, and the whole family is revoked."""

    __tablename__ = "refresh_tokens"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The user's auth_key when the token was issued: it must still match.
    auth_key: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family: Mapped[str] = mapped_column(String(32), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The end of the log-in this token descends from: no token of the family outlives it.
    family_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The scopes granted at the log-in (tokens.SCOPES), space-separated: a
    # refresh never widens them.
    scope: Mapped[str] = mapped_column(String(500))


class SecurityEvent(db.Model):
    """Something that happened to an account's security (security_events.py),
    listed to its owner at GET /api/v1/me/security-events. Deleted with the
    account."""

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
    the client application's site, registered by the account's owner.
    Deleted with the account."""

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


class PasskeyCeremony(db.Model):
    """A challenge waiting for its answer (passkeys.py), found by the digest
    of the ceremony token the client holds, deleted when answered or once
    passkeys.CEREMONY_SECONDS have passed."""

    __tablename__ = "passkey_ceremonies"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # The challenge and what the answer is checked against, as JSON.
    state: Mapped[str] = mapped_column(String(1000))
    # Unix time the challenge was made.
    started: Mapped[int] = mapped_column(BigInteger, index=True)
