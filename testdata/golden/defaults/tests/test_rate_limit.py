"""Repeated log-in attempts from one client are cut off with 429."""

from .accounts import log_in


def test_too_many_log_in_attempts_get_429(make_app, csrf_token):
    client = make_app(migrated=True, LOGIN_RATE_LIMIT="3 per minute").test_client()
    statuses = [
        log_in(client, csrf_token, password=f"wrong password {i}").status_code for i in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    assert "Too many requests" in log_in(client, csrf_token).get_data(as_text=True)


def test_default_log_in_limit(app):
    assert app.config["LOGIN_RATE_LIMIT"] == "5 per minute"
