"""Security events per account: log-ins, failed log-ins, password and
address changes, reset links, "log out everywhere". Each is added to the
same database transaction as the change it records (the caller commits),
mirrored in the JSON log by the caller's log line, and shown to the account's
owner on the account page with the client address, newest first.

Events anyone can cause by typing an address (a failed log-in, a reset
request, a registration with a taken address) are stored after the response
has gone, so no response time tells whether the address has an account, and
at most UNSOLICITED_PER_HOUR times an hour per account and kind; the log
keeps every one. An account keeps its newest KEPT events and none older
than RETENTION_DAYS (trimmed as each one is stored), and loses them all with
the account.
"""

from __future__ import annotations

import queue
import threading
from datetime import UTC, datetime, timedelta

from flask import (
    Blueprint,
    Flask,
    Response,
    after_this_request,
    current_app,
    has_request_context,
    request,
)
from limits import RateLimitItemPerHour
from sqlalchemy import delete, or_, select

from .extensions import db, limiter
from .models import SecurityEvent, User

bp = Blueprint("security_events", __name__)

RETENTION_DAYS = 90
KEPT = 100
SHOWN = 20
UNSOLICITED_PER_HOUR = 10
QUEUE_SIZE = 1000
QUEUE_EXTENSION = "security_event_queue"

# The kinds of event; templates/main/account.html says what each means.
KINDS = frozenset(
    {
        "login",
        "login_failed",
        "password_changed",
        "password_change_failed",
        "password_reset_requested",
        "password_reset",
        "sessions_ended",
        "address_confirmed",
        "address_change_requested",
        "address_change_failed",
        "address_changed",
        "account_deletion_failed",
        "register_taken",
    }
)
UNSOLICITED = frozenset({"login_failed", "password_reset_requested", "register_taken"})


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
    events = _queue(current_app._get_current_object())
    event = (user_id, kind, request.remote_addr)

    @after_this_request
    def store_once_answered(response: Response) -> Response:
        response.call_on_close(lambda: events.put(event))
        return response


class EventQueue:
    """A bounded queue of unsolicited events and the thread that stores
    them, for one app. Full, it drops events (the log line stays)."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[tuple[int, str, str | None]] = queue.Queue(QUEUE_SIZE)
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()

    def put(self, event: tuple[int, str, str | None]) -> None:
        with self.started:
            # Started on first use, so each gunicorn worker gets its own after the fork.
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(
                    target=self._run, name="security-events", daemon=True
                )
                self.thread.start()
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self._lost(event, "QueueFull")

    def wait_until_stored(self) -> None:
        self.queue.join()

    def _run(self) -> None:
        while True:
            user_id, kind, client = event = self.queue.get()
            try:
                with self.app.app_context():
                    try:
                        if _below_the_cap(user_id, kind):
                            _add(user_id, kind, client)
                            db.session.commit()
                    except Exception:
                        db.session.rollback()
                        raise
            except Exception as error:  # the thread must outlive any one event
                self._lost(event, type(error).__name__)
            finally:
                self.queue.task_done()

    def _lost(self, event: tuple[int, str, str | None], reason: str) -> None:
        self.app.logger.warning(
            "security event not stored",
            extra={"event": "security_event_lost", "kind": event[1], "reason": reason},
        )


_queue_created = threading.Lock()


def _queue(app: Flask) -> EventQueue:
    events = app.extensions.get(QUEUE_EXTENSION)
    if events is None:
        with _queue_created:
            events = app.extensions.setdefault(QUEUE_EXTENSION, EventQueue(app))
    return events


def _add(user_id: int, kind: str, client: str | None) -> None:
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


def recent(user: User) -> list[tuple[str, str, str]]:
    """The account's newest events as (time in UTC, kind, client address)."""
    events = db.session.scalars(
        select(SecurityEvent)
        .where(SecurityEvent.user_id == user.id)
        .order_by(SecurityEvent.id.desc())
        .limit(SHOWN)
    )
    return [
        (_in_utc(event.created_at).strftime("%Y-%m-%d %H:%M UTC"), event.kind, event.client or "")
        for event in events
    ]


def _in_utc(moment: datetime) -> datetime:
    # SQLite and MySQL hand back naive datetimes (every value stored is UTC);
    # PostgreSQL an aware one in the connection's time zone.
    return moment.astimezone(UTC) if moment.tzinfo else moment


@bp.app_context_processor
def _templates_can_list_events() -> dict:
    return {"recent_security_events": recent}
