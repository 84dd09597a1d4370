"""Outgoing mail over real SMTP servers: verified TLS or nothing, and
production refuses mail settings that would send in the clear."""

import secrets
import smtplib
import ssl
from email.message import EmailMessage

import pytest

from orders_api.config import (
    ConfigError,
    load_settings,
    validate_settings,
)
from orders_api.mail import deliver, masked

from .mail_server import MailServer


def message(to="grace@example.com"):
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = "noreply@example.com", to, "Hello"
    mail.set_content("Hello <b>there</b>")
    return mail


def settings_for(server, **changes):
    settings = load_settings({"APP_ENV": "testing", **server.settings()}, "/nonexistent")
    settings.update(changes)
    return settings


def test_mail_goes_out_over_verified_starttls_with_a_log_in(mail_server):
    deliver(settings_for(mail_server), message())
    (received,) = mail_server.wait_for("grace@example.com")
    assert received.message["Subject"] == "Hello"


def test_mail_goes_out_over_implicit_tls(tmp_path):
    with MailServer(tmp_path, implicit=True).running() as server:
        deliver(settings_for(server), message())
        assert server.wait_for("grace@example.com")


def test_a_certificate_from_an_unknown_ca_is_refused(mail_server, tmp_path):
    with MailServer(tmp_path).running() as impostor:
        # The impostor's certificate, checked against the real server's CA.
        settings = settings_for(impostor, MAIL_CA_FILE=str(mail_server.ca_file))
        with pytest.raises(ssl.SSLCertVerificationError):
            deliver(settings, message())
        assert impostor.received() == []


@pytest.mark.parametrize("implicit", [False, True])
def test_a_certificate_for_another_host_name_is_refused(tmp_path, implicit):
    with MailServer(tmp_path, implicit=implicit, names=("mail.example.com",)).running() as server:
        with pytest.raises(ssl.SSLCertVerificationError, match="match"):
            deliver(settings_for(server), message())
        assert server.received() == []


def test_a_server_without_starttls_gets_nothing(tmp_path):
    with MailServer(tmp_path, tls=False).running() as plain:
        settings = settings_for(plain, MAIL_TLS="starttls")
        with pytest.raises(smtplib.SMTPNotSupportedError):
            deliver(settings, message())
        assert plain.received() == []


def production(**environ):
    base = {
        "APP_ENV": "production",
        "SECRET_KEY": secrets.token_hex(32),
        "DATABASE_URL": "sqlite:////tmp/x.sqlite3",
        "TRUSTED_HOSTS": "example.com",
        "BACKEND_TLS": "private-network",
        "REDIS_URL": "redis://cache:6379/0",
        "MEMCACHED_SERVERS": "cache:11211",
        "MAIL_SERVER": "smtp.example.com",
        "MAIL_FROM": "noreply@example.com",
        "JWT_SECRET_KEY": secrets.token_hex(32),
        "CLIENT_APP_URL": "https://app.example.com",
        "ENCRYPTION_KEYS": secrets.token_hex(32),
    }
    base.update(environ)
    return {k: v for k, v in base.items() if v is not None}


def check(environ):
    validate_settings(load_settings(environ, "/nonexistent"))


def test_production_mails_over_starttls_by_default():
    settings = load_settings(production(), "/nonexistent")
    assert (settings["MAIL_TLS"], settings["MAIL_PORT"]) == ("starttls", 587)
    validate_settings(settings)


def test_plain_smtp_goes_to_loopback_only():
    with pytest.raises(ConfigError, match="MAIL_TLS"):
        check(production(MAIL_TLS="none"))
    check(production(MAIL_TLS="none", MAIL_SERVER="127.0.0.1", MAIL_PORT="25"))


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("MAIL_TLS", "ssl", "MAIL_TLS must be one of"),
        ("MAIL_PORT", "0", "MAIL_PORT must be"),
        ("MAIL_FROM", "App <noreply@example.com>", "MAIL_FROM must be one plain address"),
        ("MAIL_FROM", "nobody", "MAIL_FROM must be one plain address"),
        ("MAIL_USERNAME", "app", "MAIL_USERNAME and MAIL_PASSWORD go together"),
        ("MAIL_CA_FILE", "/no/such/ca.pem", "MAIL_CA_FILE names no file"),
        ("PASSWORD_RESET_MINUTES", "0", "PASSWORD_RESET_MINUTES must be at least 1"),
    ],
)
def test_mail_settings_that_cannot_work_are_refused(name, value, problem):
    with pytest.raises(ConfigError, match=problem):
        check(production(**{name: value}))


def test_a_mail_password_never_crosses_the_network_in_the_clear():
    with pytest.raises(ConfigError, match="in the clear"):
        check(
            production(
                MAIL_TLS="none", MAIL_SERVER="127.0.0.1", MAIL_USERNAME="app", MAIL_PASSWORD="pw"
            )
        )


def test_development_sends_to_the_mail_catcher(tmp_path):
    settings = load_settings({"APP_ENV": "development"}, str(tmp_path / "instance"))
    assert (settings["MAIL_SERVER"], settings["MAIL_PORT"], settings["MAIL_TLS"]) == (
        "127.0.0.1",
        1025,
        "none",
    )


def test_logs_show_an_address_masked():
    assert masked("grace.hopper@example.com") == "g***@example.com"
