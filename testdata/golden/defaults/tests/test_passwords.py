"""Passwords are hashed with argon2id and upgraded when the parameters change."""

from argon2 import PasswordHasher
from sqlalchemy import select

from demo.extensions import db
from demo.models import User
from demo.passwords import (
    hash_password,
    needs_rehash,
    verify_password,
)

from .accounts import EMAIL, PASSWORD, log_in, register


def test_hash_is_argon2id_with_strong_parameters():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$v=19$")
    params = dict(item.split("=") for item in hashed.split("$")[3].split(","))
    # OWASP: at least 19 MiB with 2 passes; these defaults are stronger.
    assert int(params["m"]) >= 19 * 1024
    assert int(params["t"]) >= 2
    assert verify_password(hashed, PASSWORD)
    assert not verify_password(hashed, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)


def test_weak_hash_is_upgraded_at_log_in(client, csrf_token, app):
    register(client, csrf_token)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)
    with app.app_context():
        user = db.session.scalar(select(User))
        user.password_hash = weak
        db.session.commit()
    assert log_in(client, csrf_token, email=EMAIL).status_code == 302

    with app.app_context():
        upgraded = db.session.scalar(select(User)).password_hash
    assert upgraded != weak
    assert not needs_rehash(upgraded)
    assert verify_password(upgraded, PASSWORD)
