"""Generic error pages (JSON under /api/): no tracebacks, no internals."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, Response, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError, SecurityError, TooManyRequests

MESSAGES = {
    400: "The request could not be understood.",
    401: "You need to sign in.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    413: "The request is too large.",
    415: "That content type is not accepted here.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side.",
    503: "The server is busy. Please try again in a moment.",
}


# Headers an error carries that a client acts on, kept on the generic page:
# when to come back (429, 503), which methods the URL allows (405, RFC 9110
# section 15.5.6), how to authenticate (401).
KEPT_HEADERS = frozenset({"Retry-After", "Allow", "WWW-Authenticate"})

# Where the app keeps the functions told of each refusal that is logged
# (on_refusal): each gets the event name, within the refused request.
_LISTENERS = "refusal_listeners"


def on_refusal(app: Flask, listener: Callable[[str], None]) -> None:
    """Call LISTENER with the event name (csrf_failed, rate_limited,
    host_refused) of every refusal APP logs, within the refused request."""
    app.extensions.setdefault(_LISTENERS, []).append(listener)


def _page(code: int) -> tuple[str | Response, int]:
    message = MESSAGES.get(code, "The request could not be completed.")
    if request.path.startswith("/api/"):
        return jsonify(error=message), code
    return render_template("errors/error.html", code=code, message=message), code


def _log_refusal(error: HTTPException) -> str | None:
    """Refusals that point at an attack or a misconfiguration are logged as
    warnings with an event name, for alerts: never a token, cookie or body.
    The event name, or None for other errors."""
    if isinstance(error, CSRFError):
        event, detail = "csrf_failed", {"reason": error.description}
    elif isinstance(error, TooManyRequests):
        # The limit that was reached, such as "5 per 1 minute".
        event, detail = "rate_limited", {"limit": error.description}
    elif isinstance(error, SecurityError):
        # Most often TRUSTED_HOSTS missing a name the app is reached by.
        # The host Werkzeug checked: the Host header, else the server's name.
        host = request.environ.get("HTTP_HOST") or request.environ.get("SERVER_NAME", "")
        event, detail = "host_refused", {"host": host[:253]}
    else:
        return None
    current_app.logger.warning(
        "request refused: %s",
        event.replace("_", " "),
        extra={
            "event": event,
            "method": request.method,
            "path": request.path[:200],
            "client": request.remote_addr,
            **detail,
        },
    )
    return event


def _tell_listeners(event: str) -> None:
    for listener in current_app.extensions.get(_LISTENERS, ()):
        try:
            listener(event)
        except Exception:
            # The refusal stands and is logged; a listener's failure must
            # not turn it into a 500.
            current_app.logger.exception(
                "refusal listener failed", extra={"event": "refusal_listener_failed"}
            )


def handle_http_error(
    error: HTTPException,
) -> tuple[str | Response, int] | tuple[str | Response, int, dict[str, str]]:
    event = _log_refusal(error)
    if event is not None:
        _tell_listeners(event)
    page = _page(error.code or 500)
    # The page replaces the error's own body, not the headers a client acts on.
    kept = {name: value for name, value in error.get_headers() if name in KEPT_HEADERS}
    if kept:
        return (*page, kept)
    return page


def handle_unexpected_error(error: Exception) -> tuple[str | Response, int]:
    # The details go to the log, never to the client.
    current_app.logger.exception("unhandled exception", extra={"event": "error"})
    return _page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    if app.debug:
        # Development (flask run --debug, which only APP_ENV=development
        # allows): a crash reaches the Werkzeug debugger with its traceback.
        return
    app.register_error_handler(Exception, handle_unexpected_error)
