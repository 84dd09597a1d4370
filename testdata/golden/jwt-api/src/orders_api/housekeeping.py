"""Accounts left unconfirmed for UNCONFIRMED_ACCOUNT_DAYS are deleted by the
app itself, about once a day, so no deployment needs a scheduler for it
(`flask users purge-unconfirmed` does the same on demand).

Each worker process looks at most once an hour, after a response Flask
serves (an API call, /readyz; not /healthz, which never reaches Flask), whether
a purge is due; the rate-limit store, which every worker and replica shares
when there is a cache server (else every worker of one host), records the
day's purge once it succeeded, so the others skip it. The purge runs after
the response, on a thread of its own (after_response.py), so no request
waits for it; one that fails is tried again at the next hourly look.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, Response, current_app
from limits import RateLimitItemPerDay
from sqlalchemy import delete

from .after_response import run_after_sending
from .extensions import db, limiter
from .models import User

CHECK_EVERY_SECONDS = 3600
_EXTENSION = "housekeeping_next_check"
_checking = threading.Lock()


def purge_unconfirmed() -> int:
    """Delete the accounts whose address was not confirmed within
    UNCONFIRMED_ACCOUNT_DAYS; how many went."""
    cutoff = datetime.now(UTC) - timedelta(days=current_app.config["UNCONFIRMED_ACCOUNT_DAYS"])
    deleted = db.session.execute(
        delete(User).where(User.email_verified_at.is_(None), User.created_at < cutoff)
    ).rowcount
    db.session.commit()
    current_app.logger.info(
        "unconfirmed accounts deleted",
        extra={"event": "unconfirmed_accounts_purged", "count": deleted},
    )
    return deleted


def init_app(app: Flask) -> None:
    app.after_request(_purge_when_due)


def _purge_when_due(response: Response) -> Response:
    if response.direct_passthrough:
        # A file handed to the server as it is (static files): the response is
        # never closed through Flask, so a job queued on its close would never run.
        return response
    app = current_app._get_current_object()
    now = _clock()
    if now < app.extensions.get(_EXTENSION, 0.0) or not _checking.acquire(blocking=False):
        return response
    try:
        if now < app.extensions.get(_EXTENSION, 0.0):
            return response
        app.extensions[_EXTENSION] = now + CHECK_EVERY_SECONDS
    finally:
        _checking.release()
    return run_after_sending(response, "housekeeping", 1, _Purge())


@dataclass(frozen=True)
class _Purge:
    """A purge, unless another worker did one today."""

    def run(self, app: Flask) -> None:
        with app.app_context():
            if _purged_today(app):
                return
            try:
                purge_unconfirmed()
            except Exception:
                db.session.rollback()
                raise
            # Marked only once done: a purge that failed (the database down,
            # not migrated yet) is tried again at the next hourly look. Two
            # workers may purge at once now and then, which deletes nothing twice.
            _mark_purged(app)

    def failed(self, app: Flask, error: Exception) -> None:
        app.logger.error(
            "unconfirmed accounts not purged; tried again within the hour",
            extra={"event": "unconfirmed_accounts_purge_failed", "reason": type(error).__name__},
        )

    def dropped(self, app: Flask) -> None:
        pass  # one is queued already; it does the same


def _clock() -> float:
    return time.monotonic()


_TODAY = RateLimitItemPerDay(1)


def _purged_today(app: Flask) -> bool:
    config = app.config
    if not config["RATELIMIT_ENABLED"]:
        return False
    return not limiter.limiter.test(_TODAY, config["RATELIMIT_KEY_PREFIX"], "housekeeping", "purge")


def _mark_purged(app: Flask) -> None:
    config = app.config
    if config["RATELIMIT_ENABLED"]:
        limiter.limiter.hit(_TODAY, config["RATELIMIT_KEY_PREFIX"], "housekeeping", "purge")
