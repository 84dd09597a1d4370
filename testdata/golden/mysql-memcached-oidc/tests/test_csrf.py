"""State-changing requests need a valid CSRF token."""

from flask import render_template_string


def _app_with_form(make_app):
    app = make_app()

    @app.route("/probe/form", methods=["GET", "POST"])
    def form():
        return render_template_string(
            '<form method="post"><input name="csrf_token" type="hidden" value="{{ csrf_token() }}">'
            "</form>"
        )

    return app


def test_post_without_token_is_refused(make_app):
    client = _app_with_form(make_app).test_client()
    response = client.post("/probe/form", data={"field": "value"})
    assert response.status_code == 400


def test_post_with_a_forged_token_is_refused(make_app):
    client = _app_with_form(make_app).test_client()
    client.get("/probe/form")
    response = client.post("/probe/form", data={"csrf_token": "forged"})
    assert response.status_code == 400


def test_post_from_another_origin_is_refused(make_app, csrf_token):
    client = _app_with_form(make_app).test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    response = client.post(
        "/probe/form", data={"csrf_token": token}, headers={"Referer": "https://evil.example/"}
    )
    assert response.status_code == 400


def test_post_with_the_token_is_accepted(make_app, csrf_token):
    client = _app_with_form(make_app).test_client()
    token = csrf_token(client.get("/probe/form").get_data(as_text=True))
    response = client.post("/probe/form", data={"csrf_token": token})
    assert response.status_code == 200
