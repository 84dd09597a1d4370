"""Logs are JSON lines carrying a request id (readable lines in development);
input cannot forge lines."""

import json
import logging
import sys

import pytest
from flask import render_template_string

from edge_proxy import create_app
from edge_proxy.config import ConfigError
from edge_proxy.extensions import limiter
from edge_proxy.logs import (
    AppLogHandler,
    JSONFormatter,
    RequestIdFilter,
    TextFormatter,
)


def _render(records):
    formatter = JSONFormatter()
    return [formatter.format(record) for record in records]


def test_request_id_is_generated_and_echoed(client):
    response = client.get("/")
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32


def test_plain_request_id_from_the_caller_is_kept(client):
    response = client.get("/", headers={"X-Request-ID": "abc-123.def_456"})
    assert response.headers["X-Request-ID"] == "abc-123.def_456"


@pytest.mark.parametrize("supplied", ["short", "has space; and=more", "x" * 200, "<script>"])
def test_unsafe_request_id_is_replaced(client, supplied):
    response = client.get("/", headers={"X-Request-ID": supplied})
    assert response.headers["X-Request-ID"] != supplied
    assert len(response.headers["X-Request-ID"]) == 32


def test_log_lines_are_json_with_the_request_id(app, caplog):
    @app.get("/probe/log")
    def probe():
        app.logger.info("user said %s", "hello\nFORGED line", extra={"event": "probe"})
        return "ok"

    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        response = app.test_client().get("/probe/log", headers={"X-Request-ID": "req-00000001"})
    assert response.status_code == 200
    lines = _render([r for r in caplog.records if getattr(r, "event", None) == "probe"])
    assert len(lines) == 1
    line = lines[0]
    assert "\n" not in line, "a newline in user input must not start a new log line"
    entry = json.loads(line)
    assert entry["message"] == "user said hello\nFORGED line"
    assert entry["request_id"] == "req-00000001"
    assert entry["event"] == "probe"
    assert entry["level"] == "INFO"


def test_app_logger_writes_json_once(make_app):
    make_app()
    app = make_app()  # a second app must not stack a second handler
    handlers = [h for h in app.logger.handlers if isinstance(h, AppLogHandler)]
    assert len(handlers) == 1
    assert isinstance(handlers[0].formatter, JSONFormatter)


def _record_with_traceback(message: str) -> logging.LogRecord:
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        exc_info = sys.exc_info()
    return logging.makeLogRecord(
        {"msg": message, "levelname": "ERROR", "exc_info": exc_info, "event": "probe"}
    )


def test_development_logs_are_readable_lines(environ):
    app = create_app({**environ, "APP_ENV": "development"})
    (handler,) = [h for h in app.logger.handlers if isinstance(h, AppLogHandler)]
    assert isinstance(handler.formatter, TextFormatter)
    text = handler.formatter.format(_record_with_traceback("user said hello\nFORGED line"))
    first, *rest = text.splitlines()
    assert "ERROR" in first
    assert "user said hello\\nFORGED line" in first, "input must not start a new line"
    assert "event='probe'" in first
    # The traceback is printed as Python prints it, not folded into one JSON string.
    assert rest[0] == "Traceback (most recent call last):"
    assert rest[-1] == "RuntimeError: boom"


def test_production_and_tests_log_json_and_the_format_can_be_chosen(environ):
    assert create_app(environ).config["LOG_FORMAT"] == "json"
    development = {**environ, "APP_ENV": "development"}
    assert create_app({**development, "LOG_FORMAT": "json"}).config["LOG_FORMAT"] == "json"
    with pytest.raises(ConfigError, match="LOG_FORMAT must be one of json, text"):
        create_app({**environ, "LOG_FORMAT": "xml"})


def _refusals(caplog, event):
    """The JSON log entries of one event."""
    records = [r for r in caplog.records if getattr(r, "event", None) == event]
    return [json.loads(line) for line in _render(records)]


def test_a_csrf_failure_is_logged_without_the_token(make_app, caplog):
    app = make_app()

    @app.route("/probe/form", methods=["GET", "POST"])
    def form():
        return render_template_string("{{ csrf_token() }}")

    client, other = app.test_client(), app.test_client()
    own = client.get("/probe/form").get_data(as_text=True)
    # A well-formed token of another session: checked, and refused.
    foreign = other.get("/probe/form").get_data(as_text=True)
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        response = client.post("/probe/form", data={"csrf_token": foreign})
    assert response.status_code == 400
    [entry] = _refusals(caplog, "csrf_failed")
    assert entry["level"] == "WARNING"
    assert (entry["method"], entry["path"]) == ("POST", "/probe/form")
    assert entry["reason"] == "The CSRF tokens do not match."
    assert entry["client"]
    logged = json.dumps(entry)
    assert own not in logged
    assert foreign not in logged
    assert client.get_cookie("__Host-session").value not in logged


def test_a_rate_limited_request_is_logged_with_its_limit(make_app, caplog):
    app = make_app()

    @app.get("/probe/limited")
    @limiter.limit("1 per minute")
    def limited():
        return "ok"

    client = app.test_client()
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        assert client.get("/probe/limited").status_code == 200
        assert client.get("/probe/limited").status_code == 429
    [entry] = _refusals(caplog, "rate_limited")
    assert (entry["method"], entry["path"]) == ("GET", "/probe/limited")
    assert entry["limit"] == "1 per 1 minute"


def test_a_foreign_host_is_logged(client, caplog):
    with caplog.at_level(logging.WARNING):
        assert client.get("/", headers={"Host": "evil.example"}).status_code == 400
    [entry] = _refusals(caplog, "host_refused")
    assert entry["host"] == "evil.example"
    assert entry["path"] == "/"
