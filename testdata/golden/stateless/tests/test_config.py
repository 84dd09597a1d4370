"""Production refuses to start without its secrets; development works with none."""

import pytest

from edge_proxy import create_app
from edge_proxy.config import ConfigError

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 64,
    "TRUSTED_HOSTS": "app.example.com",
}


def test_complete_production_settings_start():
    app = create_app(PRODUCTION)
    assert app.config["APP_ENV"] == "production"
    assert not app.debug
    assert not app.testing


@pytest.mark.parametrize("name", sorted(PRODUCTION.keys() - {"APP_ENV"}))
def test_production_refuses_to_start_without(name):
    environ = {key: value for key, value in PRODUCTION.items() if key != name}
    with pytest.raises(ConfigError, match=name):
        create_app(environ)


def test_production_redirects_plain_http_by_default():
    assert create_app(PRODUCTION).config["HTTPS_REDIRECT"] is True
    assert create_app({**PRODUCTION, "HTTPS_REDIRECT": "false"}).config["HTTPS_REDIRECT"] is False
    with pytest.raises(ConfigError, match="HTTPS_REDIRECT must be true or false"):
        create_app({**PRODUCTION, "HTTPS_REDIRECT": "maybe"})


def test_production_is_the_default():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({})


def test_production_refuses_a_short_secret_key():
    with pytest.raises(ConfigError, match="at least 32"):
        create_app({**PRODUCTION, "SECRET_KEY": "too-short"})


def test_production_refuses_debug_mode(monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="debug"):
        create_app(PRODUCTION)


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigError, match="APP_ENV"):
        create_app({"APP_ENV": "prod"})


DEVELOPMENT = {"APP_ENV": "development"}


def test_development_needs_no_servers_and_no_secret():
    app = create_app(DEVELOPMENT)
    # A random per-process key, never a literal from the code.
    assert len(app.config["SECRET_KEY"]) >= 32
    assert create_app(DEVELOPMENT).config["SECRET_KEY"] != app.config["SECRET_KEY"]


def test_secret_key_fallbacks_allow_rotation():
    app = create_app({**PRODUCTION, "SECRET_KEY_FALLBACKS": "old-key-1, old-key-2"})
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-key-1", "old-key-2"]
