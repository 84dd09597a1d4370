"""/healthz answers without dependencies; /readyz checks them and says 503 when one is down."""


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_is_answered_before_the_app(client):
    # Liveness has no host-specific content, so a probe naming the pod's own
    # address is answered; a page for that Host is still refused.
    assert client.get("/healthz", headers={"Host": "10.0.0.7:8000"}).status_code == 200
    assert client.get("/", headers={"Host": "10.0.0.7:8000"}).status_code == 400
    head = client.head("/healthz")
    assert head.status_code == 200
    assert head.get_data() == b""
    # Only GET and HEAD are the probe's; anything else is the app's to refuse.
    assert client.post("/healthz").status_code in (400, 404, 405)


def test_readyz_when_everything_is_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"


def test_readyz_is_refused_through_a_proxy(make_app, environ):
    # Every proxy in front (Caddy, nginx, the Kubernetes gateway) sets
    # X-Forwarded-For; the orchestrator's probe comes without it. Behind the
    # proxy (ProxyFix) the header is still seen.
    forwarded = {"X-Forwarded-For": "203.0.113.9", "Forwarded": "for=203.0.113.9"}
    for proxies in ("0", "1"):
        client = make_app({**environ, "FORWARDED_PROXIES": proxies}).test_client()
        for name, value in forwarded.items():
            response = client.get("/readyz", headers={name: value})
            assert response.status_code == 404, (proxies, name)
            assert b"checks" not in response.get_data()
        # Liveness stays answered for a proxy's own health checks.
        assert client.get("/healthz", headers=forwarded).status_code == 200


def _unreachable_database(tmp_path) -> str:
    # A SQLite file in a directory that does not exist cannot be opened.
    return f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}"


def test_readyz_is_503_when_the_database_is_down(make_app, environ, tmp_path):
    app = make_app({**environ, "DATABASE_URL": _unreachable_database(tmp_path)})
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "unavailable"
    # Liveness does not depend on the database.
    assert app.test_client().get("/healthz").status_code == 200
