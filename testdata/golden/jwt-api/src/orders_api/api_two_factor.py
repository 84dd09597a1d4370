"""Two-factor log-in through the API (two_factor.py): the second step of a
log-in, and turning it on, off and making new recovery codes.

- Set-up answers with a new secret (as text, an otpauth:// URI and a QR
  code) and a setup_token that holds it encrypted, bound to the account, for
  SETUP_SECONDS; nothing is stored until a code from that secret comes back
  with the current password, so the app really holds the secret.
- Turning it on ends every log-in of the account (none of them passed a
  second factor) and answers with new tokens for this client and ten
  recovery codes, shown once.
- Turning it off and new recovery codes need the current password. Each
  change is a security event, and the owner is mailed.
- A log-in of an account with it on answers 403 with a two_factor_token
  (api.py); POST /auth/token/two-factor with that token and a code, or a
  recovery code, finishes it. Attempts are counted per account before any
  code is checked.
"""

from __future__ import annotations

import json
import time

from flask import current_app, g, jsonify

from . import api_schemas, two_factor
from .api import NO_SCOPE_OPEN, logged_in, token_fields, token_required
from .api_account import REFUSED_CURRENT_CREDENTIAL, current_password_ok
from .api_requests import (
    api_blueprint,
    client_link,
    error,
    fields,
    login_rate_limit,
    optional_field,
    unauthorized,
)
from .extensions import db, limiter
from .mail import send_mail
from .models import User
from .openapi import documented
from .security_events import record, record_unsolicited
from .stored_secrets import UnreadableSecretError, decrypt, encrypt
from .tokens import SCOPES, granted_scopes, issue_refresh_token

bp = api_blueprint("api_two_factor", "/api/v1")

# How long a set-up waits for its first code.
SETUP_SECONDS = 600
# Tells a setup_token from the other values stored_secrets encrypts.
SETUP_PURPOSE = "two-factor set-up"

CODE_REFUSED = "This code is not right, or was used already."
PENDING_INVALID = "The log-in waited too long for its code, or the account changed: log in again."
TOO_MANY = (
    "Too many attempts at a code for this account from clients not used with it. "
    "Wait a while, then log in again, or log in from a client that has before."
)
ALREADY_ON = "Two-factor log-in is on already: turn it off first to move it to a new app."
NOT_ON = "Two-factor log-in is not on."


@bp.post("/auth/token/two-factor")
@limiter.limit(login_rate_limit)
@documented(
    "Finish a log-in with a code from the authenticator app, or a recovery code",
    body=api_schemas.TwoFactorLogIn,
    responses={
        200: ("Logged in.", api_schemas.LoginTokens),
        400: (
            "The body does not fit, or none of the scopes asked for is open to the account.",
            api_schemas.Problem,
        ),
        401: (
            "The code is wrong or was used, or the two_factor_token expired (invalid_grant).",
            api_schemas.Problem,
        ),
        429: (
            "Too many attempts at a code, from this client or for this account.",
            api_schemas.Problem,
        ),
    },
)
def log_in_with_code():
    values = fields("two_factor_token", "code")
    pending = two_factor.pending_login(values["two_factor_token"])
    if pending is None:
        return unauthorized("invalid_grant", PENDING_INVALID)
    user, scope = pending
    # Scopes dropped from tokens.SCOPES, or from the account's role, since
    # the password step grant nothing; checked before a code is spent.
    scopes = granted_scopes(user, frozenset(scope.split()) & SCOPES.keys())
    if not scopes:
        return error(NO_SCOPE_OPEN, 400)
    if not two_factor.spend_attempt(user, optional_field("device_token")):
        # No code is checked once the account's allowance is spent.
        current_app.logger.warning(
            "two-factor attempts held back",
            extra={"event": "two_factor_held", "user_id": user.id},
        )
        return error(TOO_MANY, 429)
    code = values["code"]
    if two_factor.accept_totp(user, code):
        return logged_in(user, scopes)
    if two_factor.accept_recovery_code(user, code):
        record(user.id, "recovery_code_used")
        return logged_in(user, scopes)
    db.session.commit()
    current_app.logger.warning(
        "two-factor code refused", extra={"event": "two_factor_failed", "user_id": user.id}
    )
    record_unsolicited(user.id, "two_factor_failed")
    return unauthorized("invalid_grant", CODE_REFUSED)


@bp.get("/me/two-factor")
@token_required("account")
@documented(
    "Whether two-factor log-in is on, and how many recovery codes are left",
    responses={200: ("The state.", api_schemas.TwoFactorState)},
)
def state():
    user = g.user
    left = two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0
    return jsonify(enabled=user.two_factor_enabled, recovery_codes_left=left)


@bp.post("/me/two-factor/setup")
@limiter.limit(login_rate_limit)
@token_required("account")
@documented(
    "Start turning two-factor log-in on: a new secret for an authenticator app",
    responses={
        200: (
            "A new secret; nothing changes until a code from it comes back.",
            api_schemas.TwoFactorSetup,
        ),
        409: ("Two-factor log-in is on already.", api_schemas.Problem),
    },
)
def setup():
    user = g.user
    if user.two_factor_enabled:
        return error(ALREADY_ON, 409)
    secret = two_factor.new_secret()
    uri = two_factor.setup_uri(secret, user.email)
    sealed = {
        "purpose": SETUP_PURPOSE,
        "user": user.id,
        "key": user.auth_key,
        "secret": secret,
        "at": int(time.time()),
    }
    return jsonify(
        secret=secret,
        otpauth_uri=uri,
        qr_code=two_factor.qr_code(uri),
        setup_token=encrypt(json.dumps(sealed)),
        expires_in=SETUP_SECONDS,
    )


def _setup_secret(user: User, setup_token: str) -> str | None:
    """The secret of USER's set-up SETUP_TOKEN, if it is recent and the
    account has not changed since."""
    try:
        sealed = json.loads(decrypt(setup_token))
    except (UnreadableSecretError, ValueError):
        return None
    if not isinstance(sealed, dict) or sealed.get("purpose") != SETUP_PURPOSE:
        return None
    at = sealed.get("at")
    if not isinstance(at, int) or not 0 <= time.time() - at < SETUP_SECONDS:
        return None
    if sealed.get("user") != user.id or sealed.get("key") != user.auth_key:
        return None
    secret = sealed.get("secret")
    return secret if isinstance(secret, str) else None


@bp.post("/me/two-factor")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "Turn two-factor log-in on with a code from the set-up's secret; every log-in ends",
    body=api_schemas.TwoFactorConfirmation,
    responses={
        200: (
            "On: new tokens for this client, and the recovery codes, shown once.",
            api_schemas.TwoFactorOn,
        ),
        400: (
            "The body does not fit, the set-up expired, or the code does not match.",
            api_schemas.Problem,
        ),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
        409: ("Two-factor log-in is on already.", api_schemas.Problem),
    },
)
def turn_on():
    values = fields("setup_token", "code", "password")
    user = g.user
    if user.two_factor_enabled:
        return error(ALREADY_ON, 409)
    secret = _setup_secret(user, values["setup_token"])
    if secret is None:
        return error("The set-up expired or is not this account's: start it again.", 400)
    if not current_password_ok(user, values["password"], "two_factor_change_failed"):
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    step = two_factor.matching_step(secret, values["code"])
    if step is None:
        return error(
            "This code does not match. Check that the app shows this account, and its clock.", 400
        )
    codes = two_factor.turn_on(user, secret, step)
    if codes is None:
        # Another request turned it on first; its answer has the codes.
        db.session.rollback()
        return error(ALREADY_ON, 409)
    # Log-ins that never passed a second factor end; this client gets new tokens.
    user.end_all_log_ins()
    refresh_token = issue_refresh_token(user, g.scopes)
    record(user.id, "two_factor_enabled")
    db.session.commit()
    current_app.logger.info(
        "two-factor log-in turned on; every log-in ended",
        extra={"event": "two_factor_enabled", "user_id": user.id},
    )
    _tell_the_owner(user, "Two-factor log-in was turned on", "turned on")
    issued = token_fields(user, g.scopes, refresh_token, new_device=True)
    return jsonify(recovery_codes=codes, **issued)


@bp.post("/me/two-factor/recovery-codes")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "New recovery codes; the old ones stop working",
    body=api_schemas.CurrentPassword,
    responses={
        200: ("The new codes, shown once.", api_schemas.RecoveryCodes),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
        409: ("Two-factor log-in is not on.", api_schemas.Problem),
    },
)
def new_recovery_codes():
    user = g.user
    password = fields("password")["password"]
    if not user.two_factor_enabled:
        return error(NOT_ON, 409)
    if not current_password_ok(user, password, "two_factor_change_failed"):
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    codes = two_factor.new_recovery_codes(user)
    record(user.id, "recovery_codes_renewed")
    db.session.commit()
    current_app.logger.info(
        "new recovery codes made", extra={"event": "recovery_codes_renewed", "user_id": user.id}
    )
    _tell_the_owner(
        user,
        "New recovery codes were made",
        "given new recovery codes; the old ones no longer work",
    )
    return jsonify(recovery_codes=codes)


@bp.post("/me/two-factor/off")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "Turn two-factor log-in off: log-ins then need only the password",
    body=api_schemas.CurrentPassword,
    responses={
        204: ("Off.", None),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
        409: ("Two-factor log-in is not on.", api_schemas.Problem),
    },
)
def turn_off():
    user = g.user
    password = fields("password")["password"]
    if not user.two_factor_enabled:
        return error(NOT_ON, 409)
    if not current_password_ok(user, password, "two_factor_change_failed"):
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    two_factor.turn_off(user)
    record(user.id, "two_factor_disabled")
    db.session.commit()
    current_app.logger.info(
        "two-factor log-in turned off", extra={"event": "two_factor_disabled", "user_id": user.id}
    )
    _tell_the_owner(user, "Two-factor log-in was turned off", "turned off")
    return "", 204


def _tell_the_owner(user: User, subject: str, change: str) -> None:
    send_mail(
        user.email,
        subject,
        "two_factor_changed",
        change=change,
        settings_link=client_link("two-factor"),
        reset_link=client_link("reset-password"),
    )
