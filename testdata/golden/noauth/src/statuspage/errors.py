"""Generic error pages: no tracebacks, no internals."""

from __future__ import annotations

from flask import Flask, current_app, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES = {
    400: "The request could not be understood.",
    403: "You are not allowed to do that.",
    404: "There is nothing here.",
    405: "That method is not allowed here.",
    413: "The request is too large.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side.",
}


def _page(code: int) -> tuple[str, int]:
    message = MESSAGES.get(code, "The request could not be completed.")
    return render_template("errors/error.html", code=code, message=message), code


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    return _page(error.code or 500)


def handle_unexpected_error(error: Exception) -> tuple[str, int]:
    # The details go to the log, never to the client.
    current_app.logger.exception("unhandled exception", extra={"event": "error"})
    return _page(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_unexpected_error)
    app.register_error_handler(Exception, handle_unexpected_error)
