"""Plain HTTP is redirected to HTTPS; the orchestrator's probes are not."""


def test_plain_http_is_redirected_to_https(make_app):
    client = make_app(HTTPS_REDIRECT=True).test_client()
    response = client.get("/?page=2", base_url="http://localhost")
    assert response.status_code == 308
    assert response.headers["Location"] == "https://localhost/?page=2"

    # 308 keeps the method, and the redirect is decided before CSRF is.
    response = client.post("/anything", base_url="http://localhost")
    assert response.status_code == 308


def test_a_foreign_host_is_refused_not_redirected(make_app):
    client = make_app(HTTPS_REDIRECT=True).test_client()
    response = client.get("/", base_url="http://evil.example")
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_https_requests_are_served(make_app):
    client = make_app(HTTPS_REDIRECT=True).test_client()
    assert client.get("/", base_url="https://localhost").status_code == 200


def test_probes_answer_over_plain_http(make_app):
    client = make_app(HTTPS_REDIRECT=True).test_client()
    assert client.get("/healthz", base_url="http://localhost").status_code == 200


def test_the_redirect_can_be_switched_off(make_app):
    client = make_app(HTTPS_REDIRECT=False).test_client()
    assert client.get("/", base_url="http://localhost").status_code == 200


def test_the_api_refuses_plain_http_without_a_redirect(make_app):
    # A bearer token sent over plain HTTP has already crossed the network in
    # clear: the client must learn it, not be sent on to HTTPS with it again.
    client = make_app(HTTPS_REDIRECT=True).test_client()
    for method in (client.get, client.post):
        response = method(
            "/api/v1/me", base_url="http://localhost", headers={"Authorization": "Bearer leaked"}
        )
        assert response.status_code == 403
        assert "Location" not in response.headers
        assert "HTTPS only" in response.get_json()["error"]


def test_the_api_is_served_over_https(make_app):
    client = make_app(HTTPS_REDIRECT=True).test_client()
    response = client.get("/api/v1/no-such-route", base_url="https://localhost")
    assert response.status_code == 404
    assert response.is_json
