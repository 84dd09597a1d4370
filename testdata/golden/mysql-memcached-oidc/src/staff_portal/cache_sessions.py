"""Server-side sessions that start only when there is something to keep.

An anonymous visitor who opens a form page needs a CSRF token bound to the
browser, nothing else. Storing that on the cache server would let anyone
fill it with one 12-hour session per cookieless request. So a session that
holds only the CSRF token travels in a signed cookie (HMAC-SHA256); the
server-side session, whose cookie holds only a random id, starts when
anything else is stored (log-in), and log-out still deletes it for good.
"""

from __future__ import annotations

from typing import Any

import msgspec
from flask import Flask, Request, Response
from flask.sessions import SessionInterface
from flask_session.base import MsgSpecSerializer, ServerSideSession, ServerSideSessionInterface

from .security import SignedCookieSessions

# Keys a session may hold and still live in the cookie: Flask-WTF's token,
# the permanence flag every session carries, and the "not fresh" mark
# Flask-Login leaves on a visitor who is not signed in.
COOKIE_ONLY_KEYS = frozenset({"csrf_token", "_permanent", "_fresh"})


class NoPickleSerializer(MsgSpecSerializer):
    """Flask-Session's decoder without its pickle fallback: whoever can write
    to the cache server must not be able to make the application run code.
    Undecodable data is an empty session."""

    def decode(self, serialized_data: bytes) -> dict:
        try:
            data = self.decoder.decode(serialized_data)
        except msgspec.DecodeError:
            return {}
        return data if isinstance(data, dict) else {}


class AnonymousCookieSessions(SessionInterface):
    """Sessions in a signed cookie while they hold only the CSRF token, on
    the server (through Flask-Session's ``server``) once they hold more."""

    def __init__(self, server: ServerSideSessionInterface, app: Flask) -> None:
        self.server = server
        self.cookie = SignedCookieSessions()
        server.serializer = NoPickleSerializer(
            app, app.config.get("SESSION_SERIALIZATION_FORMAT", "msgpack")
        )

    def regenerate(self, session: ServerSideSession) -> None:
        """A new id for the session, and the stored one deleted (see sessions.py)."""
        self.server.regenerate(session)

    def open_session(self, app: Flask, request: Request) -> ServerSideSession | None:
        from_cookie = self.cookie.open_session(app, request)
        if from_cookie:
            # Not stored anywhere: a fresh id, used only if the session grows.
            return self._new_session(dict(from_cookie))
        session = self.server.open_session(app, request)
        # Flask-Session issues a fresh id when nothing is stored under the cookie's.
        session.stored = request.cookies.get(self.get_cookie_name(app)) == session.sid
        return session

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        if session and session.keys() <= COOKIE_ONLY_KEYS:
            if getattr(session, "stored", False):
                self.server._delete_session(self.server._get_store_id(session.sid))
            cookie_session = self.cookie.session_class(dict(session))
            cookie_session.modified = session.modified or getattr(session, "stored", False)
            cookie_session.accessed = session.accessed
            self.cookie.save_session(app, cookie_session, response)
            return
        self.server.save_session(app, session, response)

    def _new_session(self, data: dict[str, Any]) -> ServerSideSession:
        sid = self.server._generate_sid(self.server.sid_length)
        session = self.server.session_class(data, sid=sid, permanent=self.server.permanent)
        session.stored = False
        return session
