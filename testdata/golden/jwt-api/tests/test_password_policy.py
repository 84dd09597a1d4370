"""The policy for new passwords (password_policy.py): long enough, not common,
not the address, and, when asked for, not seen in a breach."""

import gzip
import logging
import socket

import pytest

from orders_api.password_policy import (
    COMMON_PASSWORDS,
    MAX_PASSWORD_LENGTH,
    is_common,
    password_problem,
)

from .accounts import EMAIL, PASSWORD, log_in, register
from .range_server import RangeServer, sha1

BREACHED = "a phrase from someone's breached account"


@pytest.fixture
def range_server():
    server = RangeServer(breached={BREACHED: 17})
    yield server
    server.close()


@pytest.fixture
def checking_app(app, range_server):
    app.config.update(
        PASSWORD_BREACH_CHECK=True,
        PASSWORD_BREACH_CHECK_URL=range_server.url,
        PASSWORD_BREACH_CHECK_SECONDS=1,
    )
    return app


def test_the_common_list_is_the_100000_passwords_in_lower_case_and_each_is_found(app):
    words = gzip.decompress(COMMON_PASSWORDS.read_bytes()).split(b"\n")
    assert words.pop() == b""
    # The 100,000 most common passwords, 96,518 once in lower case.
    assert len(words) == 96_518 == len(set(words))
    assert words == sorted(words)
    assert all(word.decode().lower() == word.decode() for word in words)
    with app.app_context():
        # Every entry, so the bisection cannot miss one at any position.
        missed = [word for word in words if not is_common(word.decode())]
        assert missed == []
        # And nothing between entries.
        assert not any(is_common(word.decode() + "\x7f") for word in words[::97])
        assert not is_common("")
        assert not is_common("\U0010ffff" * 12)


@pytest.mark.parametrize(
    "password",
    ["password1", "PASSWORD1", "iloveyou", "Qwertyuiop12", "qazwsxedcrfv", "!QAZ1qaz", "1AaAaAaA"],
)
def test_common_passwords_are_refused_in_any_letter_case(app, password):
    app.config["PASSWORD_MIN_LENGTH"] = 8
    with app.app_context():
        assert "most common passwords" in password_problem(password)


def test_long_passphrases_need_no_character_classes(app):
    with app.app_context():
        minimum = app.config["PASSWORD_MIN_LENGTH"]
        assert minimum == 12
        assert password_problem("x" * (minimum - 1) + "y") is None
        assert password_problem("kx7pq2mwz4v") == "Use at least 12 characters."
        assert password_problem(PASSWORD) is None
        # NIST SP 800-63B: at least 64 characters accepted; ours go to 128.
        assert MAX_PASSWORD_LENGTH >= 64
        assert password_problem("a quiet walk along the harbour wall " * 3 + "ok") is None
        assert password_problem("é" * MAX_PASSWORD_LENGTH) is None
        assert password_problem("é" * (MAX_PASSWORD_LENGTH + 1)) == (
            f"Use at most {MAX_PASSWORD_LENGTH} characters."
        )


@pytest.mark.parametrize(
    ("password", "email"),
    [
        ("ada.lovelace@x.org", "Ada.Lovelace@X.org"),
        ("Ada.Lovelace2024", "Ada.Lovelace@X.org"),
        ("!ada.lovelace!", "Ada.Lovelace@X.org"),
        ("ada.lovelace@x.org1", "Ada.Lovelace@X.org"),
        ("adalovelace2024", "Ada.Lovelace@X.org"),
        ("lovelace.ada!", "Ada.Lovelace@X.org"),
        ("x.org.ada.lovelace", "Ada.Lovelace@X.org"),
        ("jojojojojojo", "jo@x.io"),
    ],
)
def test_a_password_built_on_the_address_is_refused(app, password, email):
    with app.app_context():
        problem = password_problem(password, email=email)
    assert problem == "Your password may not be built on your email address. Choose another."


def test_a_password_that_only_mentions_the_address_is_accepted(app):
    with app.app_context():
        problem = password_problem("ada.lovelace rides a blue bicycle", email="ada.lovelace@x.org")
    assert problem is None


def test_the_breach_check_is_off_unless_asked_for(app, range_server):
    app.config["PASSWORD_BREACH_CHECK_URL"] = range_server.url
    assert app.config["PASSWORD_BREACH_CHECK"] is False
    with app.app_context():
        assert password_problem(BREACHED) is None
    assert range_server.requests == []


def test_a_breached_password_is_refused_and_only_five_hex_digits_leave(checking_app, range_server):
    with checking_app.app_context():
        problem = password_problem(BREACHED)
    assert "appeared in a data breach" in problem
    [asked] = range_server.requests
    assert asked["path"] == "/range/" + sha1(BREACHED)[:5]
    assert asked["Add-Padding"] == "true"
    assert sha1(BREACHED)[5:] not in str(asked)
    assert BREACHED not in str(asked)


def test_a_suffix_listed_only_as_padding_is_not_a_breach(checking_app, range_server):
    range_server.padded.add(PASSWORD)
    with checking_app.app_context():
        assert password_problem(PASSWORD) is None
    assert len(range_server.requests) == 1


def test_an_unreachable_breach_service_lets_the_password_through(checking_app, caplog):
    # Bound but not listening for the whole test: connections are refused.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        checking_app.config["PASSWORD_BREACH_CHECK_URL"] = f"http://127.0.0.1:{port}/range/"
        with checking_app.app_context(), caplog.at_level(logging.WARNING):
            assert password_problem(BREACHED) is None
    assert "password breach check unavailable" in caplog.text


@pytest.mark.parametrize(
    "misbehaviour",
    [
        {"delay_seconds": 2.5},
        # Each read within the socket timeout, the whole answer past the deadline.
        {"trickle_seconds": 0.3},
        {"truncate": True},
        # To the same answer: followed, it would refuse the password.
        {"redirect_to": "the same URL"},
    ],
    ids=["slow", "trickling", "truncated", "redirecting"],
)
def test_a_breach_service_without_a_whole_answer_in_time_lets_the_password_through(
    checking_app, range_server, caplog, misbehaviour
):
    for name, value in misbehaviour.items():
        if name == "redirect_to":
            value = range_server.url + sha1(BREACHED)[:5]
        setattr(range_server, name, value)
    with checking_app.app_context(), caplog.at_level(logging.WARNING):
        assert password_problem(BREACHED) is None
    assert "password breach check unavailable" in caplog.text
    assert len(range_server.requests) == 1


def test_registration_refuses_a_breached_password(checking_app):
    response = register(checking_app.test_client(), password=BREACHED)
    assert response.status_code == 400
    assert "appeared in a data breach" in response.get_json()["error"]


def test_log_in_never_asks_the_breach_service(checking_app, range_server):
    client = checking_app.test_client()
    assert register(client).status_code == 202
    asked = len(range_server.requests)
    assert log_in(client, email=EMAIL).status_code == 200
    assert len(range_server.requests) == asked
