"""Production refuses to start without its secrets; development works with none."""

import pytest
from flask import Flask

from statuspage import create_app
from statuspage.config import (
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
    "REDIS_URL": "redis://127.0.0.1:6379/0",
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


def test_development_needs_no_servers_and_no_secret(instance):
    app = create_app(DEVELOPMENT)
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///")
    db_file = instance / "statuspage.sqlite3"
    assert uri == f"sqlite:///{db_file}"
    # The database file can be created there: make migrate is the first to open it.
    assert instance.is_dir()
    # A random per-process key, never a literal from the code.
    assert len(app.config["SECRET_KEY"]) >= 32
    assert create_app(DEVELOPMENT).config["SECRET_KEY"] != app.config["SECRET_KEY"]


def test_secret_key_fallbacks_allow_rotation():
    app = create_app({**PRODUCTION, "SECRET_KEY_FALLBACKS": "old-key-1, old-key-2"})
    assert app.config["SECRET_KEY_FALLBACKS"] == ["old-key-1", "old-key-2"]


def test_postgres_urls_use_psycopg3():
    assert database_url("postgresql://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert database_url("postgres://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"
