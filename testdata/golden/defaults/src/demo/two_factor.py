"""Two-factor log-in: TOTP codes (RFC 6238) from an authenticator app, and
single-use recovery codes for when the app is lost.

- The secret is 160 random bits (RFC 4226's recommendation), stored
  encrypted (stored_secrets.py). Codes have 6 digits and change every 30
  seconds; one step either side is accepted, for clocks that drift.
- A code is accepted once: the account keeps the last time step it accepted,
  and a conditional UPDATE claims a newer one, so two requests racing with
  one code cannot both win, and a code seen over a shoulder is spent.
- Recovery codes are 80 random bits each, shown once; only their SHA-256
  digests are stored, and a conditional DELETE spends one.
- Attempts at a second factor are counted per account (TWO_FACTOR_RATE_LIMIT)
  before any code is checked, as well as per client, so someone holding the
  password cannot try codes in parallel or from many addresses. As with
  log-in attempts (login_throttle.py), a browser with the account's device
  cookie has an allowance of its own, so a stranger with the password cannot
  hold back the owner's own browsers. Only a cookie given after a full log-in counts: one
  from a reset or recognition link proves the mailbox, not the second factor.
  A password change or reset does not start the account's allowance afresh.
- Between the password and the code, the session holds only a pending
  log-in (the account's id and auth_key, for PENDING_SECONDS): no page that
  needs a log-in opens, and a password change or reset voids it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import click
import pyotp
import segno
from flask import current_app, session
from limits import parse_many
from sqlalchemy import delete, func, or_, select, update

from .addresses import normalize_email
from .extensions import db, limiter
from .login_throttle import device_nonce
from .models import RecoveryCode, User
from .security_events import record
from .sessions import renew_session
from .stored_secrets import UnreadableSecretError, decrypt, encrypt
from .users_cli import users

STEP_SECONDS = 30
DIGITS = 6
# Time steps accepted either side of now, for a phone's clock that drifts.
DRIFT_STEPS = 1
SECRET_BYTES = 20
RECOVERY_CODE_COUNT = 10
# 16 characters of 5 bits: 80 bits. No i, l, o or u, which read like others.
RECOVERY_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
RECOVERY_CODE_LENGTH = 16
# The longest code anyone needs to type, separators included.
MAX_CODE_LENGTH = 40
# How long the password step of a log-in waits for its second factor.
PENDING_SECONDS = 300
PENDING_KEY = "two_factor_login"


def new_secret() -> str:
    """A new TOTP secret, in base32 as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def setup_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    issuer = current_app.config["TWO_FACTOR_ISSUER"]
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer
    )


def qr_code(uri: str) -> str:
    """The QR code of URI as an SVG data: URI, for an <img>: drawn on the
    server, so the page needs no script, and the CSP's img-src 'self' data:
    already allows it."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step, near NOW, whose code CODE is; None if none is. Every
    candidate is compared in constant time."""
    digits = "".join(code.split())
    if len(digits) != DIGITS or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), digits):
            found = step
    return found


def claim_step(user: User, step: int) -> bool:
    """Record STEP as the account's last accepted one, if it is newer than
    the last: False for a code already used (or an older one)."""
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    return claimed == 1


def accept_totp(user: User, code: str) -> bool:
    """A TOTP code of USER's, not used before: True, and it is spent."""
    if user.totp_secret is None:
        return False
    try:
        secret = decrypt(user.totp_secret)
    except UnreadableSecretError:
        # Refused, not a 500: a recovery code (which needs no key) still works.
        current_app.logger.error(
            "two-factor secret unreadable: is a key missing from ENCRYPTION_KEYS?",
            extra={"event": "two_factor_secret_unreadable", "user_id": user.id},
        )
        return False
    step = matching_step(secret, code)
    if step is None:
        return False
    if not claim_step(user, step):
        current_app.logger.warning(
            "two-factor code refused: already used",
            extra={"event": "two_factor_replayed", "user_id": user.id},
        )
        return False
    return True


def _recovery_digest(user_id: int, code: str) -> str:
    return hashlib.sha256(f"{user_id}:{code}".encode()).hexdigest()


def _normalized_recovery_code(text: str) -> str | None:
    code = "".join(text.lower().replace("-", " ").split())
    if len(code) != RECOVERY_CODE_LENGTH or not set(code) <= set(RECOVERY_ALPHABET):
        return None
    return code


def accept_recovery_code(user: User, text: str) -> bool:
    """One of USER's unused recovery codes: True, and it is spent."""
    code = _normalized_recovery_code(text)
    if code is None:
        return False
    spent = db.session.execute(
        delete(RecoveryCode).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.digest == _recovery_digest(user.id, code),
        )
    ).rowcount
    return spent == 1


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(RecoveryCode).where(RecoveryCode.user_id == user.id)
    )


def new_recovery_codes(user: User) -> list[str]:
    """Replace USER's recovery codes with RECOVERY_CODE_COUNT new ones; the
    codes, to show once, as xxxx-xxxx-xxxx-xxxx."""
    # The account's row locked first: two of these at once run one after the
    # other, so the second deletes the first's codes (SQLite has one writer anyway).
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.add_all(
        RecoveryCode(user_id=user.id, digest=_recovery_digest(user.id, code)) for code in codes
    )
    return ["-".join(code[i : i + 4] for i in range(0, RECOVERY_CODE_LENGTH, 4)) for code in codes]


def turn_on(user: User, secret: str, step: int) -> list[str] | None:
    """Two-factor log-in on for USER, with SECRET, whose STEP was just
    shown to be known (and is spent); the new recovery codes. None if it was
    on already (a second set-up request raced this one)."""
    claimed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.totp_secret.is_(None))
        .values(totp_secret=encrypt(secret), totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        return None
    db.session.refresh(user)
    return new_recovery_codes(user)


def turn_off(user: User) -> None:
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def spend_attempt(user: User, device_credential: str) -> bool:
    """Count an attempt at USER's second factor, made with DEVICE_CREDENTIAL
    (the browser's device cookie, or ""); False once its allowance of
    TWO_FACTOR_RATE_LIMIT is spent (then no code is checked). The owner's
    browsers (that completed a full log-in) each have their own
    allowance, all others share one, also after a password change or reset."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return True
    device = device_nonce(user, device_credential, full_log_in_only=True)
    # Not keyed by auth_key: a password reset, which needs only the mailbox,
    # must not start the allowance afresh.
    account = hashlib.sha256(f"two-factor\0{user.id}".encode()).hexdigest()[:32]
    who = f"device-{device}" if device is not None else "strangers"
    key = (current_app.config["RATELIMIT_KEY_PREFIX"], "two-factor", account, who)
    limits = parse_many(current_app.config["TWO_FACTOR_RATE_LIMIT"])
    # Every limit is hit, even once one is spent: no short-circuit.
    hits = [limiter.limiter.hit(limit, *key) for limit in limits]
    return all(hits)


@dataclass(frozen=True)
class PendingLogin:
    user: User
    next_url: str | None


def start_pending_login(user: User, next_url: str | None) -> None:
    """The password was right: a fresh session that holds only the pending
    log-in, until the second factor completes it."""
    renew_session()
    session[PENDING_KEY] = {"user": user.get_id(), "at": int(time.time()), "next": next_url}


def pending_login() -> PendingLogin | None:
    """The session's pending log-in, if recent and its account unchanged."""
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    at, session_user_id = pending.get("at"), pending.get("user")
    if not isinstance(at, int) or not isinstance(session_user_id, str):
        return None
    if not 0 <= time.time() - at < PENDING_SECONDS:
        return None
    user_id, _, auth_key = session_user_id.partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not hmac.compare_digest(user.auth_key, auth_key):
        return None
    if not user.two_factor_enabled or user.disabled_at is not None:
        return None
    next_url = pending.get("next")
    return PendingLogin(user, next_url if isinstance(next_url, str) else None)


@users.command("two-factor-off")
@click.argument("email")
def turn_off_command(email: str) -> None:
    """Turn two-factor log-in off for the account of EMAIL, whose owner lost
    both the app and the recovery codes. Check who is asking first: this
    leaves the password as the only factor."""
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None or not user.two_factor_enabled:
        raise click.ClickException(f"no account of {email} has two-factor log-in on")
    turn_off(user)
    # Whoever held the second factor loses what it opened.
    user.end_all_sessions()
    record(user.id, "two_factor_disabled")
    db.session.commit()
    current_app.logger.info(
        "two-factor log-in turned off by an operator",
        extra={"event": "two_factor_disabled", "user_id": user.id},
    )
    click.echo(
        f"two-factor log-in is off for {user.email}, and its sessions have ended; "
        "tell its owner to turn it on again"
    )
    if user.is_staff:
        # Whoever turns it on first, with the password, opens the admin pages.
        click.echo("at once: this account is an admin, and the password alone can turn it on")
