"""HTTPS only, bounded request bodies, and security headers on every response."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, abort, current_app, redirect, request


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


def redirect_to_https() -> Response | None:
    """Send plain-HTTP requests to the same URL over HTTPS (308 keeps the method).

    Behind a TLS-terminating proxy the request only counts as HTTPS when
    FORWARDED_PROXIES trusts the proxy's X-Forwarded-Proto.
    """
    if request.is_secure or not current_app.config["HTTPS_REDIRECT"]:
        return None
    if request.path in PROBE_PATHS:
        return None
    # request.url checks the Host header against TRUSTED_HOSTS first, so the
    # redirect can only point at a host this app serves.
    return redirect("https://" + request.url.removeprefix("http://"), code=308)


def refuse_oversized_bodies() -> None:
    """413 before any view runs, even one that would never read the body."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit is not None and (request.content_length or 0) > limit:
        abort(413)


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
    app.extensions["security_headers"] = _header_items(app.config["CSP_FORM_TARGETS"])
    app.before_request(redirect_to_https)
    app.before_request(refuse_oversized_bodies)
    app.after_request(set_security_headers)
