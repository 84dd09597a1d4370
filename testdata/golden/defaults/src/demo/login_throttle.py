"""Log-in attempts are limited per account as well as per client, without
letting strangers lock the owner out (OWASP's device cookies).

A browser that has logged in to an account holds a device cookie for it:
signed, HttpOnly, for DEVICE_COOKIE_DAYS, and bound to the account's
auth_key, so a password change or reset, an address change and "log out
everywhere" void every device cookie of the account. (A browser holds one,
for the last account it logged in to.) Attempts on an account are counted
before any password is checked, so parallel requests cannot slip past:
- from a browser whose device cookie names the account: on that cookie alone.
  Once its ACCOUNT_LOGIN_RATE_LIMIT is spent it counts as a stranger;
- from every other browser, whatever its client address: together, as the
  account's strangers. Once their ACCOUNT_LOGIN_RATE_LIMIT is spent, their
  attempts get 429 and no password is checked.
So thirty clients guessing one account share one allowance, while the owner's
own browsers keep logging in. When the strangers' allowance runs out, the
owner is mailed a link that makes the browser it is opened in one of theirs
(browser_recognition.py; a password reset does the same), in a mail bucket
of its own that nobody can spend by asking for other mail, and the lock is a
security event.

The counter of an account is keyed by its stored address, so every spelling
that finds the account (the database's collation may match more than
normalize_email folds) shares it. An address without an account is counted
and held back in the same way, so the 429 tells nobody whether an address
has an account. The counters' store holds digests, not addresses.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from flask import Response, current_app, url_for
from itsdangerous import BadData
from limits import RateLimitItem, parse_many

from .account_links import mail_allowed, make_token
from .extensions import limiter
from .mail import send_mail
from .models import User
from .security import Sha256TimedSerializer
from .security_events import record_unsolicited

DEVICE_COOKIE = "__Host-device"
_SALT = "device-cookie"
# How many days a device stays the account's.
DAYS_SETTING = "DEVICE_COOKIE_DAYS"
# The longest device credential that can be ours.
MAX_DEVICE_LENGTH = 512
# The mailed link that makes a browser the owner's (browser_recognition.py).
PURPOSE = "browser-recognition"


@dataclass(frozen=True)
class LoginAttempt:
    # Refused before any password is checked: a stranger past the allowance.
    held_back: bool


def attempt(email: str, user: User | None, device_credential: str) -> LoginAttempt:
    """Count a log-in attempt on EMAIL (whose account is USER, if any), made
    with DEVICE_CREDENTIAL (the device cookie, or ""), and say whether
    it may go on. Call once per attempt, before the password."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return LoginAttempt(held_back=False)
    device = device_nonce(user, device_credential) if user is not None else None
    if device is not None and _spend(("login-device", device)):
        return LoginAttempt(held_back=False)
    address = user.email if user is not None else email
    strangers = ("login-strangers", hashlib.sha256(address.encode()).hexdigest())
    if not _spend(strangers):
        return LoginAttempt(held_back=True)
    if not _allowance_left(strangers):
        # This attempt spent the last of it: from now on strangers are held back.
        _tell_the_owner(address, user)
    return LoginAttempt(held_back=False)


def device_credential(user: User, *, full_log_in: bool) -> str:
    """A new device credential for USER's account (after a log-in, a
    recognition link, a password reset or change): the id, a random nonce, a
    mark of the auth_key and whether it was given after a FULL_LOG_IN (every
    factor the account asks for, or a change made while logged in), signed.
    It names no address. Only full log-ins' devices get an allowance of their
    own for two-factor codes (two_factor.py): a mailed link proves the
    mailbox, not the second factor."""
    return _serializer().dumps(
        [user.id, secrets.token_urlsafe(16), _key_mark(user), 1 if full_log_in else 0]
    )


def remember_device(response: Response, user: User, *, full_log_in: bool) -> Response:
    """Give the browser a device cookie for USER's account (device_credential)."""
    days = current_app.config[DAYS_SETTING]
    response.set_cookie(
        DEVICE_COOKIE,
        device_credential(user, full_log_in=full_log_in),
        max_age=days * 24 * 3600,
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response


def _tell_the_owner(address: str, user: User | None) -> None:
    # The mail limit is hit for every address, with an account or not: the
    # same work either way.
    allowed = mail_allowed(address, bucket="login-lock-mail")
    current_app.logger.warning(
        "log-ins from unrecognised browsers held back: too many attempts",
        extra={"event": "login_locked", "user_id": user.id if user else None},
    )
    if user is None:
        return
    record_unsolicited(user.id, "login_locked")
    if allowed:
        send_mail(
            user.email,
            "Log-ins to your account are being held back",
            "login_locked",
            link=url_for(
                "browser_recognition.recognise", token=make_token(PURPOSE, user), _external=True
            ),
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
            reset_link=url_for("password_reset.request_link", _external=True),
        )


def _key_mark(user: User) -> str:
    return hashlib.sha256(f"device\0{user.auth_key}".encode()).hexdigest()[:32]


def device_nonce(user: User, raw: str, *, full_log_in_only: bool = False) -> str | None:
    """The nonce of the device credential RAW, if it is genuine, recent and
    for USER's account as it is now; with FULL_LOG_IN_ONLY, only if it was
    given after a full log-in."""
    if not raw or len(raw) > MAX_DEVICE_LENGTH:
        return None
    max_age = current_app.config[DAYS_SETTING] * 24 * 3600
    try:
        parts = _serializer().loads(raw, max_age=max_age)
    except (BadData, TypeError, ValueError):
        return None
    # Credentials of earlier versions have three parts: none after a full log-in.
    if not isinstance(parts, list) or len(parts) not in (3, 4):
        return None
    user_id, nonce, mark = parts[:3]
    if user_id != user.id or not isinstance(nonce, str) or not isinstance(mark, str):
        return None
    if not hmac.compare_digest(mark, _key_mark(user)):
        return None
    if full_log_in_only and parts[3:] != [1]:
        return None
    return nonce


def _serializer() -> Sha256TimedSerializer:
    config = current_app.config
    return Sha256TimedSerializer([*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"]], _SALT)


def _limits() -> list[RateLimitItem]:
    return parse_many(current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"])


def _counter_key(counter: tuple[str, str]) -> tuple[str, str, str]:
    return (current_app.config["RATELIMIT_KEY_PREFIX"], *counter)


def _spend(counter: tuple[str, str]) -> bool:
    """One attempt off every limit of COUNTER; False if any was spent already."""
    hits = [limiter.limiter.hit(limit, *_counter_key(counter)) for limit in _limits()]
    return all(hits)


def _allowance_left(counter: tuple[str, str]) -> bool:
    return all(limiter.limiter.test(limit, *_counter_key(counter)) for limit in _limits())
