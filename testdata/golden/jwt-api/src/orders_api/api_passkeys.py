"""Passkeys through the API (passkeys.py), for the client application at
CLIENT_APP_URL, whose pages run the browser's side of each ceremony
(navigator.credentials.create() and .get()) and send the answers here.

- Adding one takes a valid access token, a name and the current password
  (a stolen access token alone cannot plant a way back in); the answer must
  show user verification. At most passkeys.PASSKEYS_PER_ACCOUNT an account.
- A passkey log-in needs no password and no two-factor code: the key is
  bound to the client's site, and the authenticator checked it was its
  owner (two factors in one). It answers like a log-in with the password.
- Removing one is scoped to the owner: another account's passkey answers 404
  like one that does not exist. Adding and removing are security events and
  mail the owner.
"""

from __future__ import annotations

import json

from flask import current_app, g, jsonify

from . import api_schemas, passkeys
from .api import ACCOUNT_DISABLED, NO_SCOPE_OPEN, logged_in, token_required
from .api_account import REFUSED_CURRENT_CREDENTIAL, current_password_ok
from .api_requests import (
    api_blueprint,
    client_link,
    error,
    fields,
    json_object,
    login_rate_limit,
    unauthorized,
)
from .extensions import db, limiter
from .mail import send_mail
from .models import Passkey, User
from .openapi import MAX_ID, documented
from .security_events import record
from .stored_times import as_utc
from .tokens import (
    SCOPES,
    UnknownScopeError,
    granted_scopes,
    requested_scopes,
    scope_text,
)

bp = api_blueprint("api_passkeys", "/api/v1")

UNAVAILABLE = "Passkeys need CLIENT_APP_URL (or PASSKEY_RP_ID) at a host name, not an IP address."
NOT_ADDED = "The passkey was not added: the answer did not check out. Start again."
LOGIN_REFUSED = "This passkey did not log you in: start again, or log in with your password."
TOO_MANY = f"An account holds at most {passkeys.PASSKEYS_PER_ACCOUNT} passkeys: remove one first."


def _as_json(passkey: Passkey) -> dict[str, object]:
    used = passkey.last_used_at
    return {
        "id": passkey.id,
        "name": passkey.name,
        "created_at": as_utc(passkey.created_at).isoformat(timespec="seconds"),
        "last_used_at": as_utc(used).isoformat(timespec="seconds") if used else None,
        "synced": passkey.backed_up,
    }


def _options(options_json: str, ceremony_token: str):
    return jsonify(options=json.loads(options_json), ceremony_token=ceremony_token)


@bp.get("/me/passkeys")
@token_required("account")
@documented(
    "The account's passkeys",
    responses={200: ("The passkeys, oldest first.", api_schemas.PasskeyList)},
)
def index():
    return jsonify(
        passkeys=[_as_json(passkey) for passkey in passkeys.passkeys_of(g.user.id)],
        available=passkeys.available(),
        limit=passkeys.PASSKEYS_PER_ACCOUNT,
    )


@bp.post("/me/passkeys/options")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "Start adding a passkey: the options for navigator.credentials.create()",
    body=api_schemas.PasskeyStart,
    responses={
        200: (
            "The options, and the token the answer comes back with.",
            api_schemas.CeremonyOptions,
        ),
        400: (
            "The body does not fit, or passkeys are not available at this site.",
            api_schemas.Problem,
        ),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
        409: ("The account holds as many passkeys as it may.", api_schemas.Problem),
    },
)
def registration_options():
    values = fields("name", "password")
    user = g.user
    if not passkeys.available():
        return error(UNAVAILABLE, 400)
    name = values["name"].strip()
    if not name or len(name) > passkeys.NAME_LENGTH:
        return error(f"A name holds 1 to {passkeys.NAME_LENGTH} characters.", 400)
    if passkeys.count_of(user.id) >= passkeys.PASSKEYS_PER_ACCOUNT:
        return error(TOO_MANY, 409)
    if not current_password_ok(user, values["password"], "passkey_change_failed"):
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    return _options(*passkeys.registration_options(user, name))


@bp.post("/me/passkeys")
@limiter.limit(login_rate_limit)
@token_required("account")
@documented(
    "Add the passkey the browser made from the options",
    body=api_schemas.PasskeyAnswer,
    responses={
        201: ("Added.", api_schemas.PasskeyInfo),
        400: ("The body does not fit, or the answer did not check out.", api_schemas.Problem),
        409: ("The account holds as many passkeys as it may.", api_schemas.Problem),
    },
)
def add():
    user = g.user
    body = json_object()
    try:
        passkey = passkeys.register(user, body.get("credential"), body.get("ceremony_token"))
    except passkeys.PasskeyRefusedError as refused:
        db.session.rollback()
        current_app.logger.warning(
            "passkey not added",
            extra={"event": "passkey_refused", "user_id": user.id, "reason": str(refused)},
        )
        if isinstance(refused, passkeys.PasskeyLimitError):
            return error(TOO_MANY, 409)
        return error(NOT_ADDED, 400)
    record(user.id, "passkey_added")
    db.session.commit()
    current_app.logger.info("passkey added", extra={"event": "passkey_added", "user_id": user.id})
    _tell_the_owner(user, "A passkey was added to your account", f"added: {passkey.name}")
    return jsonify(_as_json(passkey)), 201


@bp.delete("/me/passkeys/<int:passkey_id>")
@token_required("account")
@documented(
    "Remove one of the account's passkeys: it no longer logs in",
    responses={
        204: ("Removed.", None),
        404: ("No such passkey of this account.", api_schemas.Problem),
    },
)
def remove(passkey_id: int):
    user = g.user
    passkey = passkeys.passkey_of(user.id, passkey_id) if passkey_id <= MAX_ID else None
    if passkey is None:
        return error("No such passkey.", 404)
    name = passkey.name
    db.session.delete(passkey)
    record(user.id, "passkey_removed")
    db.session.commit()
    current_app.logger.info(
        "passkey removed", extra={"event": "passkey_removed", "user_id": user.id}
    )
    _tell_the_owner(user, "A passkey was removed from your account", f"removed: {name}")
    return "", 204


@bp.post("/auth/passkey/options")
@limiter.limit(login_rate_limit)
@documented(
    "Start a passkey log-in: the options for navigator.credentials.get()",
    responses={
        200: (
            "The options, and the token the answer comes back with.",
            api_schemas.CeremonyOptions,
        ),
        400: ("Passkeys are not available at this site.", api_schemas.Problem),
    },
)
def login_options():
    if not passkeys.available():
        return error(UNAVAILABLE, 400)
    return _options(*passkeys.authentication_options())


@bp.post("/auth/passkey")
@limiter.limit(login_rate_limit)
@documented(
    "Log in with a passkey: an access token, a refresh token and a device token",
    body=api_schemas.PasskeyLogIn,
    responses={
        200: ("Logged in.", api_schemas.LoginTokens),
        400: (
            "The body does not fit, a scope is unknown, or none asked for is open to the account.",
            api_schemas.Problem,
        ),
        401: (
            "The answer did not check out, or the account is disabled (invalid_grant).",
            api_schemas.Problem,
        ),
    },
)
def login():
    body = json_object()
    try:
        # Not optional_field: a scope that is not text must not mean "every scope".
        asked = requested_scopes(body.get("scope"))
    except UnknownScopeError as unknown:
        return error(f"{unknown}; the scopes are: {scope_text(SCOPES)}.", 400)
    try:
        user = passkeys.authenticate(body.get("credential"), body.get("ceremony_token"))
    except passkeys.PasskeyRefusedError as refused:
        db.session.rollback()
        current_app.logger.warning(
            "passkey log-in refused",
            extra={"event": "passkey_login_failed", "reason": str(refused)},
        )
        return unauthorized("invalid_grant", LOGIN_REFUSED)
    if user.disabled_at is not None:
        db.session.rollback()
        current_app.logger.info(
            "passkey log-in refused: account disabled",
            extra={"event": "login_disabled", "user_id": user.id},
        )
        return unauthorized("invalid_grant", ACCOUNT_DISABLED)
    scopes = granted_scopes(user, asked)
    if not scopes:
        db.session.commit()
        return error(NO_SCOPE_OPEN, 400)
    return logged_in(user, scopes, "passkey_login", "log-in with a passkey")


def _tell_the_owner(user: User, subject: str, change: str) -> None:
    send_mail(
        user.email,
        subject,
        "passkey_changed",
        change=change,
        settings_link=client_link("passkeys"),
        reset_link=client_link("reset-password"),
    )
