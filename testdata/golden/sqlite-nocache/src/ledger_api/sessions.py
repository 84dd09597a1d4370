"""Log-in sessions: a fresh session at every log-in, an empty one at log-out."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import current_app, session


def renew_session() -> None:
    """Start a fresh session: nothing from before log-in survives, and a
    server-side session gets a new id (no session fixation)."""
    regenerate = getattr(current_app.session_interface, "regenerate", None)
    if regenerate is not None:
        # Flask-Session deletes the stored pre-log-in session and issues a new
        # id. It acts only on a non-empty session, so it must run before clear().
        regenerate(session)
    session.clear()
    session.permanent = True


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
