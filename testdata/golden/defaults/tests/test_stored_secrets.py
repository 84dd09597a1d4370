"""Stored secrets are encrypted with the first of ENCRYPTION_KEYS and read
with any of them, so keys rotate without downtime; `flask keys reencrypt`
moves every stored secret to the first key (stored_secrets.py)."""

import importlib
import secrets

import pytest
from sqlalchemy import select

from .test_config import PRODUCTION
from .test_two_factor import enter_code, next_code, password_step, with_two_factor

OLD, NEW, OTHER = (secrets.token_hex(32) for _ in range(3))


def module(app, name):
    return importlib.import_module(f"{app.import_name}.{name}")


def stored_secret(app):
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        return db.session.scalar(select(db.metadata.tables["users"].c.totp_secret))


def two_factor_on(app, csrf_token) -> str:
    """Two-factor log-in on for a new account; its secret."""
    return with_two_factor(app, csrf_token)[1]


def logs_in_with_code(app, csrf_token, secret) -> bool:
    client = password_step(app, csrf_token)
    return (
        enter_code(client, csrf_token, next_code(secret)).status_code == 302
        and client.get("/account").status_code == 200
    )


def test_the_first_key_encrypts_and_every_key_decrypts(make_app):
    old_app = make_app(ENCRYPTION_KEYS=[OLD])
    both = make_app(ENCRYPTION_KEYS=[NEW, OLD])
    new_app = make_app(ENCRYPTION_KEYS=[NEW])
    stored = module(old_app, "stored_secrets")
    with old_app.app_context():
        written_before = stored.encrypt("a secret")
    with both.app_context():
        assert stored.decrypt(written_before) == "a secret"
        written_during = stored.encrypt("another")
    with new_app.app_context():
        assert stored.decrypt(written_during) == "another"
        with pytest.raises(stored.UnreadableSecretError, match="ENCRYPTION_KEYS"):
            stored.decrypt(written_before)


def test_a_changed_value_is_refused_not_misread(make_app):
    app = make_app(ENCRYPTION_KEYS=[OLD])
    stored = module(app, "stored_secrets")
    with app.app_context():
        token = stored.encrypt("a secret")
        tampered = token[:40] + ("A" if token[40] != "A" else "B") + token[41:]
        with pytest.raises(stored.UnreadableSecretError):
            stored.decrypt(tampered)


def test_keys_rotate_without_locking_anyone_out(make_app, csrf_token, mail_server):
    before = make_app(migrated=True, ENCRYPTION_KEYS=[OLD])
    secret = two_factor_on(before, csrf_token)
    written = stored_secret(before)
    # Deployed with the new key first: the secret written before still reads.
    during = make_app(ENCRYPTION_KEYS=[NEW, OLD])
    result = during.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert result.exit_code == 0, result.output
    assert "re-encrypted 1 stored secret" in result.output
    assert stored_secret(during) != written
    # The old key dropped: log-ins with the second factor still work.
    after = make_app(ENCRYPTION_KEYS=[NEW])
    assert logs_in_with_code(after, csrf_token, secret)


def test_reencrypt_refuses_when_no_key_opens_a_secret(make_app, csrf_token, mail_server):
    app = make_app(migrated=True, ENCRYPTION_KEYS=[OLD])
    two_factor_on(app, csrf_token)
    written = stored_secret(app)
    wrong = make_app(ENCRYPTION_KEYS=[OTHER])
    result = wrong.test_cli_runner().invoke(args=["keys", "reencrypt"])
    assert result.exit_code != 0
    assert "opens with no key" in result.output
    assert stored_secret(app) == written


def test_production_refuses_an_encryption_key_that_is_also_a_signing_key(make_app):
    config = module(make_app(), "config")
    for keys, problem in [
        (PRODUCTION["SECRET_KEY"], "ENCRYPTION_KEYS entry 1 must differ from SECRET_KEY"),
        (f"{NEW},{NEW}", "ENCRYPTION_KEYS entry 2 repeats an earlier entry"),
        (f"{NEW}, changeme-changeme-changeme-change", "ENCRYPTION_KEYS entry 2 is too weak"),
    ]:
        with pytest.raises(config.ConfigError, match=problem):
            config.validate_settings(
                config.load_settings({**PRODUCTION, "ENCRYPTION_KEYS": keys}, "/nonexistent")
            )


def test_outside_production_the_secret_key_stands_in(make_app, tmp_path):
    config = module(make_app(), "config")
    settings = config.load_settings({"APP_ENV": "development", "SECRET_KEY": OLD}, str(tmp_path))
    assert settings["ENCRYPTION_KEYS"] == [OLD]
