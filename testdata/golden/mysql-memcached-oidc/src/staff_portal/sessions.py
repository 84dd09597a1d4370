"""Log-in sessions: a fresh session at every log-in, an empty one at log-out,
and an end to every signed-in session after SESSION_IDLE_MINUTES without a
request or SESSION_HOURS after log-in, whichever comes first.

Both limits are checked here, on each request, from two times the session
holds: neither the cookie's expiry (a browser can keep a cookie longer) nor
the cache server's (each use extends it) can end a session for good.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

from flask import Flask, current_app, flash, g, redirect, request, session, url_for
from flask_login import logout_user
from werkzeug.wrappers import Response

# Flask-Login's key for the signed-in user, and the two times kept beside it
# (whole seconds since the epoch).
USER_KEY = "_user_id"
SIGNED_IN_AT = "signed_in_at"
SEEN_AT = "seen_at"
# The last-seen time is written at most this often: a session is not
# rewritten on every request only to move it by a second.
SEEN_AT_RESOLUTION_SECONDS = 60
# Requests that never touch a session (files and probes), and log-out, which
# must still reach the identity provider's log-out after a timeout.
UNTIMED_ENDPOINTS = frozenset({"static", "health.readyz", "auth.logout"})
# Clocks of several hosts differ a little; a time further ahead is forged or broken.
CLOCK_SKEW_SECONDS = 60


def _now() -> int:
    return int(time.time())


def renew_session() -> None:
    """Start a fresh session: nothing from before log-in survives, and a
    server-side session gets a new id (no session fixation). Its lifetimes
    start now."""
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:
        # Flask-Session deletes the stored pre-log-in session and issues a new
        # id. It acts only on a non-empty session, so it must run before clear().
        regenerate(session)
    session.clear()
    # Flask-WTF caches this request's CSRF token, made from the old session's
    # secret: a page rendered after the renewal must get one of the new session.
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
    session.permanent = True
    session[SIGNED_IN_AT] = session[SEEN_AT] = _now()


def init_app(app: Flask, expired_endpoint: str) -> None:
    """End timed-out sessions before any view runs; the visitor is sent to
    ``expired_endpoint`` with a message saying why (to the log-in page: and
    back here after it). With an identity provider that is not its log-in,
    which would sign an unattended browser straight back in."""

    @app.before_request
    def end_timed_out_session() -> Response | None:
        if request.endpoint in UNTIMED_ENDPOINTS or USER_KEY not in session:
            return None
        reason = _timed_out(session.get(SIGNED_IN_AT), session.get(SEEN_AT))
        if reason is None:
            return None
        current_app.logger.info(
            "session ended: timed out", extra={"event": "session_timed_out", "reason": reason}
        )
        logout_user()
        end_session()
        flash(
            "Your session has ended after "
            + ("a while without activity" if reason == "idle" else "its longest allowed time")
            + ". Please log in again.",
            "info",
        )
        if expired_endpoint != "auth.login" or request.method != "GET":
            return redirect(url_for(expired_endpoint))
        return redirect(url_for(expired_endpoint, next=safe_next(request.full_path.rstrip("?"))))


def _timed_out(signed_in_at: object, seen_at: object) -> str | None:
    """Why a signed-in session must end now ("idle", "lifetime"), or None;
    a session without its times (made before they existed) ends too."""
    if not isinstance(signed_in_at, int) or not isinstance(seen_at, int):
        return "lifetime"
    now = _now()
    if max(signed_in_at, seen_at) > now + CLOCK_SKEW_SECONDS:
        return "lifetime"
    config = current_app.config
    if now - signed_in_at >= config["SESSION_HOURS"] * 3600:
        return "lifetime"
    if now - seen_at >= config["SESSION_IDLE_MINUTES"] * 60:
        return "idle"
    if now - seen_at >= SEEN_AT_RESOLUTION_SECONDS:
        session[SEEN_AT] = now
    return None


def end_session() -> None:
    """Forget everything in the session. An emptied server-side session is
    deleted from the store, so the old cookie is worthless from now on."""
    session.clear()


# What a URL path, query and fragment may hold as written (RFC 3986), so the
# Location header can carry it as is: no space, control character or line
# separator, which would break the redirect, and nothing outside ASCII.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/?#%]*")


def safe_next(target: str | None) -> str | None:
    """Accept only a local path as the post-log-in destination (no open
    redirect), written with URL characters only (no failed redirect)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    if not _URL_CHARACTERS.fullmatch(target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target
