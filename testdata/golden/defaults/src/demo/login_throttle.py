"""Failed log-ins are limited per account as well as per client, without
letting anyone lock the owner out (OWASP's device cookies).

A browser that has logged in to an account holds a device cookie for it:
signed, HttpOnly, for DEVICE_COOKIE_DAYS. Failed log-ins on an address are
counted in one of two ways:
- from a browser whose device cookie names the account: on that cookie alone.
  Past ACCOUNT_LOGIN_RATE_LIMIT the cookie stops counting, and the browser is
  treated as a stranger;
- from every other browser, whatever its client address: together, as the
  address's strangers. Past ACCOUNT_LOGIN_RATE_LIMIT the address is locked
  for strangers: their log-ins get 429 before any password is checked.
So thirty clients guessing one account share one allowance, while the owner's
own browsers keep logging in. When the address locks, its owner is mailed a
link that makes the browser it is opened in one of theirs (a password reset
does the same), and the lock is a security event.

Addresses without an account are counted and locked in the same way, so the
429 tells nobody whether an address has an account. Counters live in the
rate-limit store, under a digest of the address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from flask import Response, current_app, request, url_for
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
# The mailed link that makes a browser the owner's (browser_recognition.py).
PURPOSE = "browser-recognition"


@dataclass(frozen=True)
class LoginAttempt:
    """Which allowance a log-in attempt on one address draws from."""

    address_key: str
    # The nonce of the browser's device cookie for this account, while it has
    # allowance left; None for a stranger.
    device: str | None

    @property
    def counter(self) -> tuple[str, str]:
        if self.device is not None:
            return ("login-device", self.device)
        return ("login-strangers", self.address_key)


def start(email: str, user: User | None) -> LoginAttempt:
    """The attempt about to be made on EMAIL (whose account is USER, if any)."""
    device = _device_nonce(user) if user is not None else None
    if device is not None and not _allowance_left(("login-device", device)):
        device = None
    return LoginAttempt(hashlib.sha256(email.encode()).hexdigest(), device)


def locked(attempt: LoginAttempt) -> bool:
    """Whether the attempt is refused unheard: a stranger on a locked address."""
    return attempt.device is None and not _allowance_left(attempt.counter)


def failed(attempt: LoginAttempt, user: User | None) -> None:
    """Count a failed attempt; if it locks the address, tell its owner."""
    if not _enabled():
        return
    for limit in _limits():
        limiter.limiter.hit(limit, *_key(attempt.counter))
    if attempt.device is not None or _allowance_left(attempt.counter):
        return
    current_app.logger.warning(
        "log-ins from unrecognised browsers held back: too many failed",
        extra={"event": "login_locked", "user_id": user.id if user else None},
    )
    if user is None:
        return
    record_unsolicited(user.id, "login_locked")
    if mail_allowed(user.email):
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


def remember_device(response: Response, user: User) -> Response:
    """Give the browser a device cookie for USER's account (after a log-in,
    a recognition link or a password reset)."""
    days = current_app.config["DEVICE_COOKIE_DAYS"]
    value = _serializer().dumps([user.id, secrets.token_urlsafe(16)])
    response.set_cookie(
        DEVICE_COOKIE,
        value,
        max_age=days * 24 * 3600,
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    return response


def _device_nonce(user: User) -> str | None:
    raw = request.cookies.get(DEVICE_COOKIE, "")
    if not raw or len(raw) > 512:
        return None
    max_age = current_app.config["DEVICE_COOKIE_DAYS"] * 24 * 3600
    try:
        user_id, nonce = _serializer().loads(raw, max_age=max_age)
    except (BadData, TypeError, ValueError):
        return None
    if user_id != user.id or not isinstance(nonce, str):
        return None
    return nonce


def _serializer() -> Sha256TimedSerializer:
    config = current_app.config
    return Sha256TimedSerializer([*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"]], _SALT)


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"])


def _limits() -> list[RateLimitItem]:
    return parse_many(current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"])


def _key(counter: tuple[str, str]) -> tuple[str, str, str]:
    return (current_app.config["RATELIMIT_KEY_PREFIX"], *counter)


def _allowance_left(counter: tuple[str, str]) -> bool:
    if not _enabled():
        return True
    return all(limiter.limiter.test(limit, *_key(counter)) for limit in _limits())
