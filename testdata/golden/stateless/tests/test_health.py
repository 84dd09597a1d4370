"""/healthz answers without dependencies; /readyz checks them and says 503 when one is down."""


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_when_everything_is_up(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok"
    # No database in this project: readiness checks only what exists.
    assert "database" not in body["checks"]
