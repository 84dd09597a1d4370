"""Passwords are hashed with argon2id and upgraded when the parameters change."""

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from orders_api import passwords
from orders_api.extensions import db
from orders_api.models import User
from orders_api.password_policy import (
    MAX_PASSWORD_LENGTH,
)
from orders_api.passwords import (
    hash_password,
    needs_rehash,
    verify_password,
)

from .accounts import EMAIL, PASSWORD, log_in, register

# These prove the production parameters, not the suite's cheap ones.
pytestmark = pytest.mark.real_password_hashing


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


def test_verification_hashes_a_bounded_length_whatever_it_is_given(monkeypatch):
    """No stored password is longer than MAX_PASSWORD_LENGTH, so a longer
    candidate is cut before argon2 sees it: a megabyte costs what 129
    characters cost, and is still refused."""
    seen: list[int] = []

    class Watched:
        """The module's hasher, noting the length of each candidate."""

        def __init__(self, hasher):
            self.hasher = hasher

        def __getattr__(self, name):
            return getattr(self.hasher, name)

        def verify(self, password_hash, password):
            seen.append(len(password))
            return self.hasher.verify(password_hash, password)

    monkeypatch.setattr(passwords, "hasher", Watched(passwords.hasher))
    stored = hash_password("p" * MAX_PASSWORD_LENGTH)
    assert verify_password(stored, "p" * MAX_PASSWORD_LENGTH)
    assert not verify_password(stored, "p" * 1_000_000)
    assert seen == [MAX_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH + 1]


def test_weak_hash_is_upgraded_at_log_in(client, app):
    register(client)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    assert needs_rehash(weak)
    with app.app_context():
        user = db.session.scalar(select(User))
        user.password_hash = weak
        db.session.commit()
    assert log_in(client, email=EMAIL).status_code == 200

    with app.app_context():
        upgraded = db.session.scalar(select(User)).password_hash
    assert upgraded != weak
    assert not needs_rehash(upgraded)
    assert verify_password(upgraded, PASSWORD)
