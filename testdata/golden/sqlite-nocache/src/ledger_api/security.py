"""HTTPS only, bounded request bodies without NUL characters, HMAC-SHA256
signatures, and security headers on every response."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

import flask_wtf.csrf
from flask import Flask, Response, abort, current_app, jsonify, redirect, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


def content_security_policy(form_targets: Iterable[str] = ()) -> str:
    """The policy: everything from this origin only, no inline code. Forms
    post here, and to ``form_targets`` only (origins a form's redirect may
    lead to, such as an identity provider's log-out page)."""
    return "; ".join(
        [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            " ".join(["form-action 'self'", *form_targets]),
            "img-src 'self' data:",
            "upgrade-insecure-requests",
        ]
    )


CONTENT_SECURITY_POLICY = content_security_policy()

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    # Browsers ignore HSTS received over plain HTTP (RFC 6797 8.1), so it is
    # safe to send always; behind a TLS-terminating proxy it still arrives.
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: Flask-WTF's HTTPS CSRF check needs a same-origin Referer.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}


def _header_items(form_targets: Iterable[str]) -> tuple[tuple[str, str, str], ...]:
    """The headers in the order they are added, with their lower-case names,
    built once per app: set_security_headers runs on every response."""
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": content_security_policy(form_targets)}
    return tuple((name.lower(), name, value) for name, value in headers.items())


_REMOVED_HEADERS = frozenset({"server", "x-powered-by"})

# Probes come from the orchestrator over plain HTTP to the pod or container
# itself, never from a browser: they are answered, not redirected.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})


API_PREFIX = "/api/"
PLAIN_HTTP_API_ERROR = (
    "This API answers over HTTPS only. This request went over plain HTTP: "
    "treat any token or password it carried as exposed."
)


def redirect_to_https() -> Response | tuple[Response, int] | None:
    """Send plain-HTTP requests to the same URL over HTTPS (308 keeps the method).

    Behind a TLS-terminating proxy the request only counts as HTTPS when
    FORWARDED_PROXIES trusts the proxy's X-Forwarded-Proto.
    """
    if request.is_secure or not current_app.config["HTTPS_REDIRECT"]:
        return None
    if request.path in PROBE_PATHS:
        return None
    if request.path.startswith(API_PREFIX):
        # A redirect would make API clients resend their bearer token over
        # HTTPS without noticing it already crossed the network in clear.
        return jsonify(error=PLAIN_HTTP_API_ERROR), 403
    # request.url checks the Host header against TRUSTED_HOSTS first, so the
    # redirect can only point at a host this app serves.
    return redirect("https://" + request.url.removeprefix("http://"), code=308)


class ChunkedBodyLimit:
    """WSGI middleware: a body sent without Content-Length (chunked) is read
    here, at most MAX_CONTENT_LENGTH + 1 bytes, and handed on with its length.
    An oversized one is announced as too long and not passed on, so
    refuse_oversized_bodies answers 413 before any view runs; Werkzeug alone
    would cut such a body short when a view reads it."""

    def __init__(self, wsgi_app: Callable[..., Any], app: Flask) -> None:
        self.wsgi_app = wsgi_app
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        limit = self.app.config["MAX_CONTENT_LENGTH"]
        if limit is not None and _announces_no_length(environ):
            body = _read_at_most(environ["wsgi.input"], limit + 1)
            # From here on the body is a plain one of known length (Werkzeug
            # ignores Content-Length while Transfer-Encoding says chunked).
            del environ["HTTP_TRANSFER_ENCODING"]
            environ["CONTENT_LENGTH"] = str(len(body))
            environ["wsgi.input"] = io.BytesIO(b"" if len(body) > limit else body)
        return self.wsgi_app(environ, start_response)


def _announces_no_length(environ: dict[str, Any]) -> bool:
    return (
        not environ.get("CONTENT_LENGTH")
        and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    )


def _read_at_most(stream: Any, size: int) -> bytes:
    """Up to ``size`` bytes; a server's chunked input may return fewer per read."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        part = stream.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def refuse_oversized_bodies() -> None:
    """413 before any view runs, even one that would never read the body."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


# A \u0000 escape in a JSON text: a backslash and u0000, the backslash not
# itself escaped (an even number of backslashes before it).
_JSON_NUL = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def refuse_nul_characters() -> None:
    """400 for a request whose query, form fields or JSON body hold a NUL
    character. No text a person types holds one, and PostgreSQL refuses to
    store or even compare text with one: a form field carrying it would
    otherwise end in a 500 (found by make dast's scan). The JSON body is
    searched, not parsed (parsing is the API's, with its own limits), in the
    encoding JSON parsing would detect: UTF-8, -16 or -32."""
    for key, values in (*request.args.lists(), *request.form.lists()):
        if "\x00" in key or any("\x00" in value for value in values):
            abort(400)
    if request.is_json:
        data = request.get_data(cache=True)
        try:
            text = data.decode(json.detect_encoding(data))
        except UnicodeDecodeError:
            return  # not text at all: the API refuses it as it parses
        if "\x00" in text or _JSON_NUL.search(text):
            abort(400)


class SignedCookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, signed with HMAC-SHA256 rather than
    Flask's default SHA-1. Cookies signed with SHA-1 are not accepted: their
    holders start a new session once."""

    digest_method = staticmethod(hashlib.sha256)


class Sha256TimedSerializer(URLSafeTimedSerializer):
    """itsdangerous' timed serializer with HMAC-SHA256 (its default is SHA-1)."""

    def __init__(self, secret_key: Any, salt: Any = b"itsdangerous", **kwargs: Any) -> None:
        kwargs.setdefault("signer_kwargs", {"digest_method": hashlib.sha256})
        super().__init__(secret_key, salt, **kwargs)


# Flask-WTF signs CSRF tokens with the serializer it imports, and has no
# setting for the digest: give it the SHA-256 one (tests/test_csrf.py checks).
flask_wtf.csrf.URLSafeTimedSerializer = Sha256TimedSerializer


def set_security_headers(response: Response) -> Response:
    """Add each security header the view did not set itself. One pass over
    the response's headers instead of a lookup per header: this runs on
    every response."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    items = current_app.extensions["security_headers"]
    missing = [(name, value) for lower, name, value in items if lower not in present]
    if "cache-control" not in present and request.endpoint != "static":
        # Pages may show account data: keep them out of shared and browser caches.
        missing.append(("Cache-Control", "no-store"))
    headers.extend(missing)
    for name in _REMOVED_HEADERS & present:
        del headers[name]
    return response


def init_app(app: Flask) -> None:
    if type(app.session_interface) is SecureCookieSessionInterface:
        # No server-side sessions configured: Flask's cookie sessions, on SHA-256.
        app.session_interface = SignedCookieSessions()
    app.wsgi_app = ChunkedBodyLimit(app.wsgi_app, app)
    app.extensions["security_headers"] = _header_items(app.config["CSP_FORM_TARGETS"])
    app.before_request(redirect_to_https)
    app.before_request(refuse_oversized_bodies)
    app.before_request(refuse_nul_characters)
    app.after_request(set_security_headers)
