"""Logs carrying the request id: JSON lines in production, readable lines in
development (LOG_FORMAT chooses)."""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

REQUEST_ID_HEADER = "X-Request-ID"
# A caller-supplied id is kept only if it is short and plain, so it cannot
# inject anything into logs or headers.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JSONFormatter(logging.Formatter):
    """Serialise records as JSON: newlines in messages stay escaped, so user
    input cannot forge extra log lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """One readable line per record for a developer's terminal, with any
    traceback below it as Python prints it. Newlines inside the message and
    the extra fields are still escaped, so input cannot forge a line."""

    def format(self, record: logging.LogRecord) -> str:
        time = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S")
        message = record.getMessage().replace("\r", "\\r").replace("\n", "\\n")
        line = f"{time} {record.levelname:<7} {message}"
        extras = [
            f"{key}={value!r}"
            for key, value in vars(record).items()
            if key not in _RECORD_FIELDS and key != "request_id"
        ]
        if extras:
            line += "  " + " ".join(extras)
        request_id = getattr(record, "request_id", None)
        if request_id:
            line += f"  [request {request_id}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


FORMATTERS = {"json": JSONFormatter, "text": TextFormatter}


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = g.get("request_id") if has_request_context() else None
        return True


def _assign_request_id() -> None:
    supplied = request.headers.get(REQUEST_ID_HEADER, "")
    g.request_id = supplied if _REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex


def _echo_request_id(response: Response) -> Response:
    if "request_id" in g:
        response.headers[REQUEST_ID_HEADER] = g.request_id
    return response


class AppLogHandler(logging.StreamHandler):
    """Writes to stderr, where containers, systemd and terminals collect it."""

    def __init__(self, log_format: str) -> None:
        super().__init__(sys.stderr)
        self.setFormatter(FORMATTERS[log_format]())
        self.addFilter(RequestIdFilter())


def init_app(app: Flask) -> None:
    # The app logger is shared by every app created in one process (tests):
    # replace an earlier handler of ours and Flask's plain one, keep the rest.
    for handler in list(app.logger.handlers):
        if handler is default_handler or isinstance(handler, AppLogHandler):
            app.logger.removeHandler(handler)
    app.logger.addHandler(AppLogHandler(app.config["LOG_FORMAT"]))
    app.logger.setLevel(app.config["LOG_LEVEL"])
    app.before_request(_assign_request_id)
    app.after_request(_echo_request_id)
