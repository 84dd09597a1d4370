"""Production refuses to start without its secrets; development works with none."""

import pytest
from flask import Flask

from staff_portal import create_app
from staff_portal.config import (
    ConfigError,
    database_url,
)


@pytest.fixture(autouse=True)
def instance(tmp_path, monkeypatch):
    """Where Flask puts the instance folder for apps made here, which nothing
    has created yet (development creates it, and must not touch the project's)."""
    path = tmp_path / "instance"
    monkeypatch.setattr(Flask, "auto_find_instance_path", lambda app: str(path))
    return path


PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "s" * 64,
    "DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3",
    "TRUSTED_HOSTS": "app.example.com",
    "MEMCACHED_SERVERS": "127.0.0.1:11211",
    "OIDC_ISSUER": "https://id.example.com",
    "OIDC_CLIENT_ID": "client-id",
    "OIDC_CLIENT_SECRET": "client-secret",
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


# What `make idp` serves: a development provider on a loopback address.
DEVELOPMENT = {
    "APP_ENV": "development",
    "OIDC_ISSUER": "http://127.0.0.1:5001",
    "OIDC_CLIENT_ID": "dev-client",
    "OIDC_CLIENT_SECRET": "dev-client-secret",
}


def test_development_needs_no_servers_and_no_secret(instance):
    app = create_app(DEVELOPMENT)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///")
    db_file = instance / "staff_portal.sqlite3"
    assert uri == f"sqlite:///{db_file}"
    # The database file can be created there: make migrate is the first to open it.
    assert instance.is_dir()
    # A random per-process key, never a literal from the code.
    assert len(app.config["SECRET_KEY"]) >= 32
    assert create_app(DEVELOPMENT).config["SECRET_KEY"] != app.config["SECRET_KEY"]


def test_secret_key_fallbacks_allow_rotation():
    app = create_app({**PRODUCTION, "SECRET_KEY_FALLBACKS": "old-key-1, old-key-2"})
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-key-1", "old-key-2"]


def test_mysql_urls_use_pymysql():
    assert database_url("mysql://u:p@db/x") == "mysql+pymysql://u:p@db/x"
    assert database_url("mariadb://u:p@db/x") == "mariadb+pymysql://u:p@db/x"
    assert database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_production_needs_an_https_issuer():
    with pytest.raises(ConfigError, match="https"):
        create_app({**PRODUCTION, "OIDC_ISSUER": "http://id.example.com"})
    with pytest.raises(ConfigError, match="never in production"):
        create_app({**PRODUCTION, "OIDC_ISSUER": "http://127.0.0.1:5001"})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OIDC_ISSUER", "", "OIDC_ISSUER is not set"),
        ("OIDC_ISSUER", "http://id.example.com", "OIDC_ISSUER must be an https:// URL"),
        ("OIDC_ISSUER", "id.example.com", "OIDC_ISSUER must be an https:// URL"),
        ("OIDC_ISSUER", "https://id.example.com/?x=1", "OIDC_ISSUER must be the provider's"),
        ("OIDC_CLIENT_ID", "", "OIDC_CLIENT_ID is not set"),
        ("OIDC_CLIENT_SECRET", "", "OIDC_CLIENT_SECRET is not set"),
        ("OIDC_SCOPES", "email profile", "OIDC_SCOPES must include openid"),
        ("OIDC_ID_TOKEN_ALG", "HS256", "OIDC_ID_TOKEN_ALG must be one of"),
        ("OIDC_ID_TOKEN_ALG", "none", "OIDC_ID_TOKEN_ALG must be one of"),
    ],
)
def test_every_oidc_setting_is_checked_at_start_up(name, value, message):
    # In development too: a bad setting is a message naming it, not a 500 at log-in.
    with pytest.raises(ConfigError, match=message):
        create_app({**DEVELOPMENT, name: value})


def test_log_out_may_continue_at_the_provider_only():
    app = create_app({**DEVELOPMENT, "OIDC_ISSUER": "http://127.0.0.1:5001/realms/dev"})
    assert app.config["CSP_FORM_TARGETS"] == ["http://127.0.0.1:5001"]
