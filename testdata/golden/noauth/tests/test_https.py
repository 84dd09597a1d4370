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
