"""Oversized bodies get 413, chunked ones too; foreign Host headers and NUL
characters in the query, a form or JSON get 400."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy
from flask import Flask, request
from werkzeug.serving import make_server

from ledger_api.extensions import csrf, limiter


def test_oversized_body_is_refused(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)

    @app.post("/probe/upload")
    def upload():
        return str(len(request.form))

    response = app.test_client().post("/probe/upload", data={"field": "x" * 4096})
    assert response.status_code == 413
    assert "too large" in response.get_data(as_text=True)


def test_oversized_body_is_refused_on_any_path(make_app):
    # Even where no view reads the body (here: no view at all), it is refused.
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()
    response = client.post("/no-such-page", data="x" * 4096)
    assert response.status_code == 413


@contextmanager
def serving(app: Flask) -> Iterator[int]:
    """The app behind a real HTTP server on a free loopback port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.port
    finally:
        server.shutdown()
        thread.join()


def send_chunked(port: int, method: str, path: str, chunks: list[bytes]) -> bytes:
    """Send a body in chunks, with no Content-Length; return the raw answer."""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n"
        "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n"
    )
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks) + b"0\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode() + body)
        answer = b""
        while part := connection.recv(65536):
            answer += part
    return answer


def _app_with_body_probe(make_app):
    app = make_app(MAX_CONTENT_LENGTH=1024)

    @app.post("/probe/body")
    @csrf.exempt
    def body():
        return str(len(request.get_data()))

    return app


def test_oversized_chunked_body_is_refused_before_any_view(make_app):
    # No Content-Length to check: the body itself is measured, even where
    # no view would read it (here: a page that never looks at the body).
    with serving(_app_with_body_probe(make_app)) as port:
        answer = send_chunked(port, "GET", "/", [b"x" * 512] * 8)
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_oversized_chunked_body_is_refused_where_a_view_reads_it(make_app):
    with serving(_app_with_body_probe(make_app)) as port:
        answer = send_chunked(port, "POST", "/probe/body", [b"x" * 512] * 2 + [b"x"])
    assert answer.startswith(b"HTTP/1.1 413 ")


def test_chunked_body_within_the_limit_reaches_the_view_whole(make_app):
    with serving(_app_with_body_probe(make_app)) as port:
        answer = send_chunked(port, "POST", "/probe/body", [b"x" * 300] * 3 + [b"y" * 124])
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b"\r\n\r\n1024")


def _app_with_text_probe(make_app) -> Flask:
    """An app with a view that reads every value it was sent and hands each
    to the database, as views do with what they look up or store."""
    app = make_app()

    @app.route("/probe/text", methods=["GET", "POST"])
    @csrf.exempt
    def text_probe():
        values = [*request.args.values(), *request.form.values()]
        if request.is_json:
            values.append(str(request.get_json()))
        with app.app_context():
            db = app.extensions["sqlalchemy"]
            for value in values:
                db.session.execute(sqlalchemy.text("SELECT :value"), {"value": value})
        return str(len(values))

    return app


def test_nul_characters_are_refused_before_any_view(make_app):
    client = _app_with_text_probe(make_app).test_client()
    assert client.post("/probe/text?q=fine", data={"email": "ada@example.com"}).status_code == 200
    assert client.post("/probe/text", json={"title": ["a", {"b": "c"}]}).status_code == 200
    # A backslash followed by the text u0000 is no NUL.
    assert client.post("/probe/text", json={"path": "C:\\u0000"}).status_code == 200
    escaped_nul = b'{"a": "\\\\\\u0000"}'  # a backslash, then a NUL
    utf16_nul = escaped_nul.decode().encode("utf-16-le")
    refused = [
        client.get("/probe/text?q=a%00b"),
        client.get("/probe/text?a%00b=q"),
        client.post("/probe/text", data={"email": "https://example.com//e.php\x00"}),
        client.post("/probe/text", data={"email\x00": "ada@example.com"}),
        client.post("/probe/text", json={"title": ["a", {"b": "c\x00"}]}),
        client.post("/probe/text", json={"key\x00": 1}),
        client.post("/probe/text", data=escaped_nul, content_type="application/json"),
        # JSON parsing detects UTF-16 and UTF-32 too, and so does the check.
        client.post("/probe/text", data=utf16_nul, content_type="application/json"),
    ]
    assert [response.status_code for response in refused] == [400] * len(refused)


def test_default_body_limit_is_set(make_app):
    assert make_app().config["MAX_CONTENT_LENGTH"] == 1024 * 1024


def test_untrusted_host_is_refused(client):
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_trusted_host_is_served(client):
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200


def test_routes_without_limits_skip_the_limit_lookup(app):
    # Limits sit on the views that need them; no hook looks them up for every request.
    assert limiter._check_request_limit not in app.before_request_funcs.get(None, [])


def test_an_app_wide_limit_keeps_the_check_on_every_request(make_app, monkeypatch):
    manager = type(limiter.limit_manager)
    monkeypatch.setattr(manager, "default_limits", property(lambda self: ["10 per second"]))
    app = make_app()
    assert limiter._check_request_limit in app.before_request_funcs[None]
