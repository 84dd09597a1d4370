"""Database models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask_login import UserMixin
from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .roles import STAFF


def new_auth_key() -> str:
    """A random value that ties sessions to one account: the id alone is not
    enough, as a deleted account's id could be handed to the next one."""
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    """A person as the identity provider knows them: issuer and subject
    identify the account; email and name are refreshed at every log-in."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("issuer", "subject", name="uq_users_issuer_subject"),
        # SQLite would otherwise hand a deleted account's id to the next one.
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    # Part of the session's user id (get_id); a new one ends every session.
    auth_key: Mapped[str] = mapped_column(String(64), default=new_auth_key)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A key of roles.ROLES, set at each log-in from the provider's claims
    # (oidc_roles.py): what the account may do beyond its own pages.
    role: Mapped[str] = mapped_column(String(20), default="user", server_default="user")
    # Set by an admin (admin.py): the account cannot log in, and its sessions end.
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    def get_id(self) -> str:
        return f"{self.id}:{self.auth_key}"

    @property
    def is_staff(self) -> bool:
        """Whether the role opens the admin pages (roles.STAFF)."""
        return self.role in STAFF

    def end_all_sessions(self) -> None:
        """Every session of this account stops working (each carries the old key)."""
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
