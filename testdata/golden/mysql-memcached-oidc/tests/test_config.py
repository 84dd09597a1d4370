"""Production refuses to start without its secrets; development works with none."""

import secrets
import ssl

import pytest
from flask import Flask

from staff_portal import create_app
from staff_portal.config import (
    ConfigError,
    database_url,
    load_settings,
    validate_settings,
)
from staff_portal.extensions import (
    memcached_client,
    memcached_options,
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
    "SECRET_KEY": secrets.token_hex(32),
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
    with pytest.raises(ConfigError, match="SECRET_KEY is too weak: production needs at least 32"):
        create_app({**PRODUCTION, "SECRET_KEY": "too-short"})


WEAK_SECRETS = {
    "a placeholder repeated": "changeme" * 4,
    "one character": "x" * 64,
    "a short pattern repeated": "abcdefghijklmnop" * 4,
    "few different characters": "".join(secrets.choice("abcdefgh") for _ in range(64)),
    "low entropy": "ab" * 20 + "cdefghijkl",
    "a placeholder word": "replace-this-with-" + secrets.token_hex(16),
    # 128 random bits, but 32 hex characters estimate below 128: use token_hex(32).
    "32 hex characters": secrets.token_hex(16),
}
STRONG_SECRETS = {
    "token_hex(32)": secrets.token_hex(32),
    "token_urlsafe(32)": secrets.token_urlsafe(32),
}
SIGNING_KEYS = ("SECRET_KEY", "SECRET_KEY_FALLBACKS")


@pytest.mark.parametrize("name", SIGNING_KEYS)
@pytest.mark.parametrize("weak", WEAK_SECRETS.values(), ids=WEAK_SECRETS.keys())
def test_production_refuses_weak_signing_keys(name, weak):
    with pytest.raises(ConfigError, match="too weak") as refused:
        create_app({**PRODUCTION, name: weak})
    message = str(refused.value)
    # The message names the setting and the rule, and never shows the value.
    assert message.startswith(name)
    assert "128 bits" in message
    assert "token_hex(32)" in message
    assert weak not in message


@pytest.mark.parametrize("strong", STRONG_SECRETS.values(), ids=STRONG_SECRETS.keys())
def test_production_accepts_generated_signing_keys(strong):
    create_app({**PRODUCTION, "SECRET_KEY": strong, "SECRET_KEY_FALLBACKS": secrets.token_hex(32)})


def test_every_fallback_key_is_checked():
    fallbacks = f"{secrets.token_hex(32)}, {'changeme' * 4}"
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS entry 2 is too weak"):
        create_app({**PRODUCTION, "SECRET_KEY_FALLBACKS": fallbacks})


def test_a_fallback_key_must_not_be_the_current_key():
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS entry 1 must differ"):
        create_app({**PRODUCTION, "SECRET_KEY_FALLBACKS": PRODUCTION["SECRET_KEY"]})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("SESSION_HOURS", "0", "must be from 1 to 720"),
        ("SESSION_HOURS", "721", "must be from 1 to 720"),
        ("SESSION_IDLE_MINUTES", "0", "must be from 1 to SESSION_HOURS in minutes"),
        ("SESSION_IDLE_MINUTES", "721", r"must be from 1 to SESSION_HOURS in minutes \(720\)"),
    ],
)
def test_session_lifetimes_are_checked(name, value, message):
    with pytest.raises(ConfigError, match=f"{name} {message}"):
        create_app({**PRODUCTION, name: value})


def test_session_lifetimes_default_to_30_idle_minutes_and_12_hours():
    app = create_app(PRODUCTION)
    assert (app.config["SESSION_IDLE_MINUTES"], app.config["SESSION_HOURS"]) == (30, 12)


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
    old_keys = [secrets.token_hex(32), secrets.token_hex(32)]
    app = create_app({**PRODUCTION, "SECRET_KEY_FALLBACKS": f"{old_keys[0]}, {old_keys[1]}"})
    assert app.config["SECRET_KEY_FALLBACKS"] == old_keys


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
        ("OIDC_ROLES_CLAIM", "", "OIDC_ROLES_CLAIM must be the name of an ID token claim"),
        ("OIDC_ROLES_CLAIM", "my groups", "OIDC_ROLES_CLAIM must be the name of an ID token"),
        ("OIDC_ROLES_CLAIM", "email", "'email' is set by the person or by the protocol"),
        ("OIDC_ROLES_CLAIM", "preferred_username", "set by the person or by the protocol"),
        ("OIDC_ROLES", "admins", "each entry must be GROUP=ROLE; got 'admins'"),
        ("OIDC_ROLES", "admins=root", "'root' is not a role; roles are admin, user"),
        ("OIDC_ROLES", "a=admin, a=user", "'a' is mapped to two roles"),
        ("OIDC_MFA_AMR", " , ", "OIDC_MFA_AMR must name at least one amr value"),
    ],
)
def test_every_oidc_setting_is_checked_at_start_up(name, value, message):
    # In development too: a bad setting is a message naming it, not a 500 at log-in.
    with pytest.raises(ConfigError, match=message):
        create_app({**DEVELOPMENT, name: value})


def test_log_out_may_continue_at_the_provider_only():
    app = create_app({**DEVELOPMENT, "OIDC_ISSUER": "http://127.0.0.1:5001/realms/dev"})
    assert app.config["CSP_FORM_TARGETS"] == ["http://127.0.0.1:5001"]


def _refused_for_tls(environ: dict[str, str], name: str) -> str:
    with pytest.raises(ConfigError, match=f"{name} names a server on another machine") as refused:
        create_app(environ)
    message = str(refused.value)
    assert "BACKEND_TLS=private-network" in message
    # The URL may hold a password: never in the message.
    assert "hunter2" not in message
    return message


def test_backend_tls_mode_is_checked():
    with pytest.raises(ConfigError, match="BACKEND_TLS must be one of required, private-network"):
        create_app({**PRODUCTION, "BACKEND_TLS": "off"})


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?ssl_ca=/etc/ssl/certs/ca-certificates.crt&ssl_check_hostname=false",
        "?ssl_ca=/etc/ssl/certs/ca-certificates.crt&ssl_disabled=true",
        "?ssl_ca=/etc/ssl/certs/ca-certificates.crt&ssl_verify_cert=false",
    ],
)
def test_production_needs_verified_tls_to_a_remote_mysql(query):
    url = "mysql://app:hunter2@db.example.com:3306/app" + query
    _refused_for_tls({**PRODUCTION, "DATABASE_URL": url}, "DATABASE_URL")


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("mysql://app:hunter2@db.example.com/app?ssl_ca=/etc/ssl/certs/ca-certificates.crt", {}),
        ("mysql://app:hunter2@db.example.com/app?ssl_capath=/etc/ssl/certs", {}),
        ("mysql://app:hunter2@127.0.0.1:3306/app", {}),
        ("mysql://app:hunter2@db:3306/app", {"BACKEND_TLS": "private-network"}),
    ],
)
def test_mysql_without_tls_only_on_loopback_or_a_declared_private_network(url, extra):
    create_app({**PRODUCTION, "DATABASE_URL": url, **extra})


def test_production_needs_tls_to_a_remote_memcached():
    environ = {**PRODUCTION, "MEMCACHED_SERVERS": "127.0.0.1:11211,cache.example.com:11211"}
    message = _refused_for_tls(environ, "MEMCACHED_SERVERS")
    assert "MEMCACHED_TLS=true" in message


def test_memcached_tls_is_accepted_and_checks_certificates_and_host_names():
    # Settings only: an app would hand the TLS option to the one process-wide
    # limiter, which keeps it for every app made after it in this test run.
    environ = {
        **PRODUCTION,
        "MEMCACHED_SERVERS": "cache.example.com:11211",
        "MEMCACHED_TLS": "true",
    }
    settings = load_settings(environ, "/nonexistent")
    validate_settings(settings)
    assert settings["MEMCACHED_TLS"] is True
    for context in (
        memcached_client(settings["MEMCACHED_SERVERS"], tls=True).tls_context,
        memcached_options(tls=True)["tls_context"],
    ):
        assert context.verify_mode == ssl.CERT_REQUIRED
        assert context.check_hostname is True


def test_memcached_without_tls_on_a_declared_private_network():
    app = create_app(
        {**PRODUCTION, "MEMCACHED_SERVERS": "cache:11211", "BACKEND_TLS": "private-network"}
    )
    assert app.extensions["memcached"].tls_context is None
