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
  log-in attempts (login_throttle.py), a client with the account's device
  token has an allowance of its own, so a stranger with the password cannot
  hold back the owner's own clients. Only a token given after a full log-in counts: one
  from a reset or recognition link proves the mailbox, not the second factor.
  A password change or reset does not start the account's allowance afresh.
- Between the password and the code, the client holds only a pending
  log-in token (the account's id and auth_key, encrypted, for
  PENDING_SECONDS): it opens nothing but the second step, and a password
  change or reset voids it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

import click
import pyotp
import segno
from flask import current_app
from limits import parse_many
from sqlalchemy import delete, func, or_, select, update

from .addresses import normalize_email
from .extensions import db, limiter
from .login_throttle import device_nonce
from .models import RecoveryCode, User
from .security_events import record
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
# Tells a pending log-in token from the other values stored_secrets encrypts.
PENDING_PURPOSE = "two-factor log-in"


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
    (the client's device token, or ""); False once its allowance of
    TWO_FACTOR_RATE_LIMIT is spent (then no code is checked). The owner's
    clients (that completed a full log-in) each have their own
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


def pending_login_token(user: User, scope: str) -> str:
    """The password was right: a token that stands for the pending log-in
    (asking for SCOPE) until the second factor completes it. Encrypted, so
    the client cannot change it, and bound to the account's auth_key."""
    pending = {
        "purpose": PENDING_PURPOSE,
        "user": user.id,
        "key": user.auth_key,
        "scope": scope,
        "at": int(time.time()),
    }
    return encrypt(json.dumps(pending))


def pending_login(token: str) -> tuple[User, str] | None:
    """The account and asked-for scope of a pending log-in token, if it is
    recent and its account unchanged (the same auth_key, two-factor log-in
    still on)."""
    try:
        pending = json.loads(decrypt(token))
    except (UnreadableSecretError, ValueError):
        return None
    if not isinstance(pending, dict) or pending.get("purpose") != PENDING_PURPOSE:
        return None
    at = pending.get("at")
    if not isinstance(at, int) or not 0 <= time.time() - at < PENDING_SECONDS:
        return None
    user_id, key, scope = pending.get("user"), pending.get("key"), pending.get("scope")
    if not isinstance(user_id, int) or not isinstance(key, str) or not isinstance(scope, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(user.auth_key, key):
        return None
    if not user.two_factor_enabled or user.disabled_at is not None:
        return None
    return user, scope


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
    user.end_all_log_ins()
    record(user.id, "two_factor_disabled")
    db.session.commit()
    current_app.logger.info(
        "two-factor log-in turned off by an operator",
        extra={"event": "two_factor_disabled", "user_id": user.id},
    )
    click.echo(
        f"two-factor log-in is off for {user.email}, and its log-ins have ended; "
        "tell its owner to turn it on again"
    )
    if user.is_staff:
        # Whoever turns it on first, with the password, opens the admin API.
        click.echo("at once: this account is an admin, and the password alone can turn it on")
