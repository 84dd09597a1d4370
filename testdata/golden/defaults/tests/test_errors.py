"""Error pages are generic: no traceback, no exception text (the debugger's
traceback only in development)."""

from werkzeug.debug import DebuggedApplication
from werkzeug.test import Client


def test_unhandled_exception_gives_a_generic_500(make_app, caplog):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False, DEBUG=False)

    @app.get("/probe/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    response = app.test_client().get("/probe/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body
    assert "RuntimeError" not in body
    # The details are logged for the operators.
    assert any(record.exc_info for record in caplog.records)


def test_not_found_is_generic(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "There is nothing here." in response.get_data(as_text=True)


def test_a_wrong_method_gets_405_naming_the_allowed_ones(client):
    # RFC 9110 section 15.5.6: a 405 must list what the URL allows.
    response = client.delete("/")
    assert response.status_code == 405
    assert "That method is not allowed here." in response.get_data(as_text=True)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_debug_is_off(make_app):
    assert make_app().debug is False


def test_api_errors_are_generic_json(client):
    response = client.get("/api/no-such-endpoint")
    assert response.status_code == 404
    assert response.get_json() == {"error": "There is nothing here."}


def test_development_shows_the_werkzeug_debugger(make_app):
    # What `make dev` (flask run --debug) serves: the app wrapped in Werkzeug's
    # debugger, which must see the crash instead of the generic page.
    app = make_app(APP_ENV="development", DEBUG=True)

    @app.get("/probe/boom")
    def boom():
        raise RuntimeError("detail for the developer")

    response = Client(DebuggedApplication(app, evalex=True)).get("/probe/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Werkzeug Debugger" in body
    assert "Traceback" in body
    assert "detail for the developer" in body
