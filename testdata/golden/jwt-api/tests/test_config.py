"""Production refuses to start without its secrets; development works with none."""

import secrets

import pytest
from flask import Flask

from orders_api import create_app
from orders_api.config import (
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
    "SECRET_KEY": secrets.token_hex(32),
    "DATABASE_URL": "sqlite:////tmp/never-opened.sqlite3",
    "TRUSTED_HOSTS": "app.example.com",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "JWT_SECRET_KEY": secrets.token_hex(32),
    "ENCRYPTION_KEYS": secrets.token_hex(32),
    "MAIL_SERVER": "smtp.example.com",
    "MAIL_FROM": "noreply@example.com",
    "CLIENT_APP_URL": "https://app.example.com",
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
# ENCRYPTION_KEYS encrypt rather than sign; the same rule holds.
SIGNING_KEYS = (
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "JWT_SECRET_KEY",
    "JWT_SECRET_KEY_FALLBACKS",
    "ENCRYPTION_KEYS",
)


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
        ("ACCOUNT_LOGIN_RATE_LIMIT", "ten a day", "must be rate limits"),
        ("ACCOUNT_LOGIN_RATE_LIMIT", "", "must be rate limits"),
        ("ACCOUNT_LOGIN_RATE_LIMIT", "0 per minute", "must be rate limits of at least 1"),
        ("ACCOUNT_MAIL_RATE_LIMIT", "5 per fortnight", "must be rate limits"),
        ("ACCOUNT_MAIL_RATE_LIMIT", "0 per hour", "must be rate limits of at least 1"),
        ("DEVICE_TOKEN_DAYS", "0", "must be from 1 to 730"),
        ("DEVICE_TOKEN_DAYS", "731", "must be from 1 to 730"),
    ],
)
def test_per_account_limits_are_checked(name, value, message):
    with pytest.raises(ConfigError, match=f"{name} {message}"):
        create_app({**PRODUCTION, name: value})


def test_per_account_log_in_limits_default_to_10_per_15_minutes_and_100_a_day():
    app = create_app(PRODUCTION)
    assert app.config["ACCOUNT_LOGIN_RATE_LIMIT"] == "10 per 15 minutes; 100 per day"
    assert app.config["DEVICE_TOKEN_DAYS"] == 180


def test_production_needs_the_client_app_url():
    settings = {**PRODUCTION}
    del settings["CLIENT_APP_URL"]
    with pytest.raises(ConfigError, match="without CLIENT_APP_URL"):
        create_app(settings)


@pytest.mark.parametrize(
    "url",
    [
        "http://app.example.com",
        "app.example.com",
        "https://app.example.com/?next=x",
        "https://app.example.com/#x",
        "https://app.example.com:port",
        "javascript:alert(1)",
    ],
)
def test_the_client_app_url_is_https_or_on_this_host(url):
    with pytest.raises(ConfigError, match="CLIENT_APP_URL must be the https address"):
        create_app({**PRODUCTION, "CLIENT_APP_URL": url})


@pytest.mark.parametrize(
    "url", ["https://app.example.com", "https://example.com/app/", "http://127.0.0.1:3000"]
)
def test_a_client_app_url_over_https_or_on_this_host_is_accepted(url):
    assert create_app({**PRODUCTION, "CLIENT_APP_URL": url}).config["CLIENT_APP_URL"] == url


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PASSWORD_HASHING_CONCURRENCY", "0", "must be at least 1"),
        ("PASSWORD_HASHING_CONCURRENCY", "-2", "must be at least 1"),
        ("PASSWORD_HASHING_WAIT_SECONDS", "-1", "must be 0 or more"),
    ],
)
def test_password_hashing_bounds_must_allow_log_ins(name, value, message):
    with pytest.raises(ConfigError, match=f"{name} {message}"):
        create_app({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("PASSWORD_MIN_LENGTH", "7", "must be from 8 to 64"),
        ("PASSWORD_MIN_LENGTH", "65", "must be from 8 to 64"),
        ("PASSWORD_BREACH_CHECK", "maybe", "must be true or false"),
        ("PASSWORD_BREACH_CHECK_SECONDS", "0", "must be from 1 to 10"),
        ("PASSWORD_BREACH_CHECK_URL", "http://breaches.example/range/", "must be an https URL"),
        ("PASSWORD_BREACH_CHECK_URL", "https://breaches.example/range", "must be an https URL"),
        ("PASSWORD_BREACH_CHECK_URL", "ftp://127.0.0.1/range/", "must be an https URL"),
        ("PASSWORD_BREACH_CHECK_URL", "https://breaches.example:abc/", "must be an https URL"),
        ("PASSWORD_BREACH_CHECK_URL", "https://breaches.example/r/#x", "must be an https URL"),
    ],
)
def test_the_password_policy_settings_are_checked(name, value, message):
    with pytest.raises(ConfigError, match=f"{name} {message}"):
        create_app({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    "url", ["https://breaches.example/range/", "http://127.0.0.1:8080/range/", "http://[::1]/r/"]
)
def test_the_breach_check_goes_over_https_or_to_this_host(url):
    app = create_app(
        {**PRODUCTION, "PASSWORD_BREACH_CHECK": "true", "PASSWORD_BREACH_CHECK_URL": url}
    )
    assert app.config["PASSWORD_BREACH_CHECK"] is True
    assert app.config["PASSWORD_BREACH_CHECK_URL"] == url


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
    db_file = instance / "orders_api.sqlite3"
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


def test_postgres_urls_use_psycopg3():
    assert database_url("postgresql://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert database_url("postgres://u:p@db/x") == "postgresql+psycopg://u:p@db/x"
    assert database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_production_refuses_a_short_jwt_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY is too weak"):
        create_app({**PRODUCTION, "JWT_SECRET_KEY": "short"})


def test_production_refuses_a_jwt_secret_equal_to_the_secret_key():
    with pytest.raises(ConfigError, match="must differ"):
        create_app({**PRODUCTION, "JWT_SECRET_KEY": PRODUCTION["SECRET_KEY"]})


@pytest.mark.parametrize(
    ("fallbacks", "message"),
    [
        ("{jwt}", "entry 1 must differ from JWT_SECRET_KEY"),
        ("{other},{secret}", "entry 2 must differ from SECRET_KEY"),
        ("{other},{other}", "entry 2 repeats an earlier entry"),
    ],
)
def test_production_checks_each_previous_jwt_key(fallbacks, message):
    keys = {
        "jwt": PRODUCTION["JWT_SECRET_KEY"],
        "secret": PRODUCTION["SECRET_KEY"],
        "other": secrets.token_hex(32),
    }
    with pytest.raises(ConfigError, match=f"JWT_SECRET_KEY_FALLBACKS {message}"):
        create_app({**PRODUCTION, "JWT_SECRET_KEY_FALLBACKS": fallbacks.format(**keys)})


@pytest.mark.parametrize("days", ["0", "366"])
def test_the_jwt_session_lifetime_is_checked(days):
    with pytest.raises(ConfigError, match="JWT_SESSION_DAYS must be from 1 to 365"):
        create_app({**PRODUCTION, "JWT_SESSION_DAYS": days})


def test_a_jwt_log_in_lasts_30_days_and_a_refresh_token_14_unused():
    app = create_app(PRODUCTION)
    assert (app.config["JWT_SESSION_DAYS"], app.config["JWT_REFRESH_DAYS"]) == (30, 14)


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


@pytest.mark.parametrize("query", ["", "?sslmode=require", "?sslmode=verify-ca", "?sslmode=prefer"])
def test_production_needs_verified_tls_to_a_remote_postgres(query):
    url = "postgresql://app:hunter2@db.example.com:5432/app" + query
    message = _refused_for_tls({**PRODUCTION, "DATABASE_URL": url}, "DATABASE_URL")
    assert "sslmode=verify-full" in message


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("postgresql://app:hunter2@db.example.com/app?sslmode=verify-full&sslrootcert=system", {}),
        ("postgresql://app:hunter2@127.0.0.1:5432/app", {}),
        ("postgresql://app:hunter2@localhost/app", {}),
        ("postgresql://app:hunter2@[::1]/app", {}),
        ("postgresql://app:hunter2@db:5432/app", {"BACKEND_TLS": "private-network"}),
    ],
)
def test_postgres_without_tls_only_on_loopback_or_a_declared_private_network(url, extra):
    create_app({**PRODUCTION, "DATABASE_URL": url, **extra})


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@cache.example.com:6379/0",
        "rediss://:hunter2@cache.example.com:6379/0?ssl_cert_reqs=none",
        "rediss://:hunter2@cache.example.com:6379/0?ssl_check_hostname=false",
    ],
)
def test_production_needs_verified_tls_to_a_remote_redis(url):
    _refused_for_tls({**PRODUCTION, "REDIS_URL": url}, "REDIS_URL")


@pytest.mark.parametrize(
    ("url", "extra"),
    [
        ("rediss://:hunter2@cache.example.com:6379/0", {}),
        ("redis://:hunter2@127.0.0.1:6379/0", {}),
        ("redis://:hunter2@cache:6379/0", {"BACKEND_TLS": "private-network"}),
    ],
)
def test_redis_without_tls_only_on_loopback_or_a_declared_private_network(url, extra):
    create_app({**PRODUCTION, "REDIS_URL": url, **extra})
