"""Oversized bodies get 413; foreign Host headers get 400."""

from flask import request

from orders_api.extensions import limiter


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
