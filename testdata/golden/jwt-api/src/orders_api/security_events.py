"""Security events per account: log-ins, failed log-ins, password and
address changes, reset links, "log out everywhere". Each is added to the
same database transaction as the change it records (the caller commits),
mirrored in the JSON log by the caller's log line, and shown to the account's
owner at GET /api/v1/me/security-events with the client address, newest first.

Events anyone can cause by typing an address (a failed log-in, a reset
request, a registration with a taken address), and the refusals of a
request that carries the account's access token (a rate limit, a host name the app
does not serve: errors.py logs every one, with an account or not), are
stored after the response has gone, so no response time tells whether the
address has an account, and at most UNSOLICITED_PER_HOUR times an hour per
account and kind; the log keeps every one. Of the refusals, an account keeps
only the newest of each kind, so they cannot push its other events out.

An account keeps its newest KEPT events and none older than RETENTION_DAYS
(trimmed as each one is stored; older ones are never listed), and loses
them all with the account.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, has_request_context, request
from limits import RateLimitItemPerHour
from sqlalchemy import delete, or_, select

from .after_response import run_after_response
from .errors import on_refusal
from .extensions import db, limiter
from .models import SecurityEvent, User
from .stored_times import as_utc
from .tokens import RejectedTokenError, verify_access_token

RETENTION_DAYS = 90
KEPT = 100
SHOWN = 20
UNSOLICITED_PER_HOUR = 10
QUEUE_SIZE = 1000

# The kinds of event.
KINDS = frozenset(
    {
        "login",
        "login_failed",
        "login_locked",
        "password_changed",
        "password_change_failed",
        "password_reset_requested",
        "password_reset",
        "sessions_ended",
        "two_factor_enabled",
        "two_factor_disabled",
        "two_factor_failed",
        "two_factor_change_failed",
        "recovery_code_used",
        "recovery_codes_renewed",
        "passkey_added",
        "passkey_removed",
        "passkey_change_failed",
        "passkey_login",
        "role_changed",
        "account_disabled",
        "account_enabled",
        "sessions_ended_by_admin",
        "address_confirmed",
        "address_change_requested",
        "address_change_failed",
        "address_changed",
        "account_deletion_failed",
        "register_taken",
        "csrf_failed",
        "rate_limited",
        "host_refused",
    }
)
UNSOLICITED = frozenset(
    {
        "login_failed",
        "login_locked",
        "password_reset_requested",
        "register_taken",
        # Whoever has the password can cause it; the owner should know.
        "two_factor_failed",
        # Refusals (errors.py) of a request that carries the account's token.
        "csrf_failed",
        "rate_limited",
        "host_refused",
    }
)
REFUSALS = frozenset({"csrf_failed", "rate_limited", "host_refused"})


def init_app(app: Flask) -> None:
    on_refusal(app, _record_refusal)


def _record_refusal(event: str) -> None:
    """Store a refusal for the account whose valid access token the refused request
    carries; one without an account stays a log line only."""
    if event not in REFUSALS:
        return
    user_id = _requesting_account()
    if user_id is not None:
        record_unsolicited(user_id, event)


def _requesting_account() -> int | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    try:
        return verify_access_token(token.strip()).user.id
    except RejectedTokenError:
        return None


def record(user_id: int, kind: str) -> None:
    """Add an event to the current transaction; the caller commits it with
    the change it records. Events anyone can cause go through
    record_unsolicited instead."""
    if kind not in KINDS or kind in UNSOLICITED:
        raise ValueError(f"not an event of a signed-in change: {kind!r}")
    _add(user_id, kind, request.remote_addr if has_request_context() else None)


def record_unsolicited(user_id: int, kind: str) -> None:
    """Store an event anyone can cause by typing an address after the
    response, from a thread of its own (as mail leaves, mail.py): whether an
    address has an account must show in no response time, nor in the next
    request on the same connection. At most UNSOLICITED_PER_HOUR an hour per
    account and kind."""
    if kind not in UNSOLICITED:
        raise ValueError(f"not an unsolicited event: {kind!r}")
    # Refusals queue apart: a flood of them cannot crowd out the others.
    queue = "security-refusals" if kind in REFUSALS else "security-events"
    run_after_response(queue, QUEUE_SIZE, UnsolicitedEvent(user_id, kind, request.remote_addr))


@dataclass(frozen=True)
class UnsolicitedEvent:
    """An event stored after the response unless its account and kind are at
    the hourly cap; dropped when the queue is full (the log line stays)."""

    user_id: int
    kind: str
    client: str | None

    def run(self, app: Flask) -> None:
        with app.app_context():
            try:
                if _below_the_cap(self.user_id, self.kind):
                    _add(self.user_id, self.kind, self.client)
                    db.session.commit()
            except Exception:
                db.session.rollback()
                raise

    def failed(self, app: Flask, error: Exception) -> None:
        self._lost(app, type(error).__name__)

    def dropped(self, app: Flask) -> None:
        self._lost(app, "QueueFull")

    def _lost(self, app: Flask, reason: str) -> None:
        app.logger.warning(
            "security event not stored",
            extra={"event": "security_event_lost", "kind": self.kind, "reason": reason},
        )


def _add(user_id: int, kind: str, client: str | None) -> None:
    # One writer of an account's events at a time: the account's row is locked
    # first. Without it, a request and the after-response worker adding events
    # of one account deadlock on MariaDB's gap locks (DELETE, then INSERT).
    db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
    if kind in REFUSALS:
        # Only the newest refusal of each kind: the account's history stays in view.
        db.session.execute(
            delete(SecurityEvent).where(
                SecurityEvent.user_id == user_id, SecurityEvent.kind == kind
            )
        )
    db.session.add(SecurityEvent(user_id=user_id, kind=kind, client=(client or "")[:45] or None))
    db.session.flush()
    # Keep the newest KEPT and nothing older than RETENTION_DAYS. The oldest id
    # kept is read first: MySQL cannot delete from a table its subquery reads.
    oldest_kept = db.session.scalar(
        select(SecurityEvent.id)
        .where(SecurityEvent.user_id == user_id)
        .order_by(SecurityEvent.id.desc())
        .offset(KEPT - 1)
        .limit(1)
    )
    too_old = SecurityEvent.created_at < datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
    if oldest_kept is not None:
        too_old = or_(too_old, SecurityEvent.id < oldest_kept)
    db.session.execute(delete(SecurityEvent).where(SecurityEvent.user_id == user_id, too_old))


def _below_the_cap(user_id: int, kind: str) -> bool:
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return True
    limit = RateLimitItemPerHour(UNSOLICITED_PER_HOUR)
    key = config["RATELIMIT_KEY_PREFIX"]
    return limiter.limiter.hit(limit, key, "security-event", kind, str(user_id))


def newest(user: User) -> list[SecurityEvent]:
    """The account's newest SHOWN events, newest first; none older than
    RETENTION_DAYS, even if no newer event has trimmed them yet."""
    cutoff = datetime.now(UTC) - timedelta(days=RETENTION_DAYS)
    return list(
        db.session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.user_id == user.id, SecurityEvent.created_at >= cutoff)
            .order_by(SecurityEvent.id.desc())
            .limit(SHOWN)
        )
    )


# What each kind means, as the API lists it. Pairs, not a dict literal:
# bandit takes a dict key naming a password for a hard-coded one.
_DESCRIBED = (
    ("login", "Logged in"),
    ("login_failed", "Log-in refused: wrong password"),
    ("login_locked", "Log-ins from devices not used with the account held back: too many attempts"),
    ("password_changed", "Password changed"),
    ("password_change_failed", "Password change refused: wrong current password"),
    ("password_reset_requested", "Password reset link requested"),
    ("password_reset", "Password reset through a mailed link"),
    ("sessions_ended", "Logged out everywhere"),
    ("two_factor_enabled", "Two-factor log-in turned on"),
    ("two_factor_disabled", "Two-factor log-in turned off"),
    ("two_factor_failed", "Log-in refused: wrong or reused two-factor code (password right)"),
    ("two_factor_change_failed", "Two-factor change refused: wrong current password"),
    ("recovery_code_used", "Logged in with a recovery code"),
    ("recovery_codes_renewed", "New recovery codes made; the old ones no longer work"),
    ("passkey_added", "Passkey added"),
    ("passkey_removed", "Passkey removed"),
    ("passkey_change_failed", "Passkey refused: wrong current password"),
    ("passkey_login", "Logged in with a passkey"),
    ("role_changed", "Role changed by an operator"),
    ("account_disabled", "Account disabled by an admin or operator: no log-ins"),
    ("account_enabled", "Account enabled again"),
    ("sessions_ended_by_admin", "Every log-in ended by an admin"),
    ("address_confirmed", "Address confirmed"),
    ("address_change_requested", "Address change requested"),
    ("address_change_failed", "Address change refused: wrong current password"),
    ("address_changed", "Address changed"),
    ("account_deletion_failed", "Account deletion refused: wrong current password"),
    ("register_taken", "Someone tried to register with this address"),
    ("csrf_failed", "Request refused: no valid CSRF token (an old page, or another site)"),
    ("rate_limited", "Requests refused: too many in a short time"),
    ("host_refused", "Request refused: sent to a host name this site does not serve"),
)
DESCRIPTIONS = dict(_DESCRIBED)


def as_json(user: User) -> list[dict[str, str | None]]:
    """The account's newest events as JSON objects: time (ISO 8601, UTC),
    kind, what it means and client address."""
    return [
        {
            "time": as_utc(event.created_at).isoformat(timespec="seconds"),
            "kind": event.kind,
            "description": DESCRIPTIONS[event.kind],
            "client": event.client,
        }
        for event in newest(user)
    ]
