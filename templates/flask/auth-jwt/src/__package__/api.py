"""The JSON API under /api/v1: registration, tokens and the caller's profile.

Registration answers the same for a new address and a taken one, with the
same work (a password hash) either way: a new address is mailed a
confirmation link, a taken one a notice that someone tried to register with
it (api_links.py). An account gets tokens once its address is confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from . import api_schemas, login_throttle
from .account_links import mail_allowed
from .addresses import normalize_email
from .api_links import REGISTRATION_SENT, send_confirmation, tell_the_owner
from .api_requests import (
    api_blueprint,
    error,
    fields,
    insufficient_scope,
    json_object,
    login_rate_limit,
    optional_field,
    unauthorized,
)
from .extensions import db, limiter
from .models import User
from .openapi import documented
from .password_policy import password_problem
from .passwords import hash_password, needs_rehash, spend_verification_time, verify_password
from .security_events import record, record_unsolicited
from .tokens import (
    SCOPES,
    RejectedTokenError,
    UnknownScopeError,
    create_access_token,
    granted_scopes,
    issue_refresh_token,
    requested_scopes,
    revoke_refresh_token,
    rotate_refresh_token,
    scope_text,
    verify_access_token,
)
from .two_factor import PENDING_SECONDS, pending_login_token

bp = api_blueprint("api", "/api/v1")

# The token type of RFC 6750 that every token answer names.
BEARER = "Bearer"
# The one answer to a refused log-in, whatever the reason.
LOGIN_FAILED = (
    "Invalid email or password, or an address not confirmed yet "
    "(if so, we have mailed you the link again)."
)
ACCOUNT_DISABLED = "This account is disabled: ask the site's operators."
NO_SCOPE_OPEN = "None of the scopes asked for is open to this account."
TWO_FACTOR_REQUIRED = (
    "This account has two-factor log-in: send a code from the authenticator app, "
    "or a recovery code, with the two_factor_token."
)
# The answer while log-ins to an account from devices not used with it are
# held back (login_throttle.py): the same for every address.
LOGIN_HELD = (
    "Too many log-ins to this account from devices not used with it: they are held back "
    "for a while. Devices that have logged in to it before (with their device_token) are "
    "not affected, and its owner has been mailed a link that lets a device in."
)


def token_fields(
    user: User, scopes: frozenset[str], refresh_token: str, *, new_device: bool = False
) -> dict[str, object]:
    """The tokens of a log-in, good for ``scopes``; with NEW_DEVICE, also a
    new device token (login_throttle.py), which the client keeps and sends
    with its next log-ins."""
    access_token, expires_in = create_access_token(user, scopes)
    # Every caller holds a full log-in: the password and any second factor, or a valid token.
    device = (
        {"device_token": login_throttle.device_credential(user, full_log_in=True)}
        if new_device
        else {}
    )
    return {
        "access_token": access_token,
        "token_type": BEARER,
        "expires_in": expires_in,
        "refresh_token": refresh_token,
        "scope": scope_text(scopes),
        **device,
    }


def token_response(
    user: User, scopes: frozenset[str], refresh_token: str, *, new_device: bool = False
):
    """token_fields as the JSON answer."""
    return jsonify(token_fields(user, scopes, refresh_token, new_device=new_device))


def logged_in(user: User, scopes: frozenset[str], event: str = "login", message: str = "log-in"):
    """A log-in whose every factor is checked: a new family of refresh
    tokens, the security event EVENT with its log line MESSAGE, and the
    tokens, with a new device token."""
    refresh_token = issue_refresh_token(user, scopes)
    record(user.id, event)
    db.session.commit()
    current_app.logger.info(
        message, extra={"event": event, "user_id": user.id, "scope": scope_text(scopes)}
    )
    return token_response(user, scopes, refresh_token, new_device=True)


def token_required(scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let the request through only with a valid bearer access token good
    for ``scope`` (one of tokens.SCOPES); the user is then in ``g.user`` and
    the token's scopes in ``g.scopes``."""
    if scope not in SCOPES:
        raise ValueError(f"{scope!r} is not one of tokens.SCOPES")

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer":
                # RFC 6750, 3.1: no credentials for this scheme, so no error code.
                return unauthorized(None)
            if not token.strip():
                # RFC 6750, 3.1: a malformed request is a 400.
                return unauthorized(
                    "invalid_request", description="The bearer token is missing.", status=400
                )
            try:
                g.user, g.scopes = verify_access_token(token.strip())
            except RejectedTokenError as refused:
                current_app.logger.warning(
                    "access token refused",
                    extra={"event": "token_refused", "reason": str(refused)},
                )
                # Expired or not: what else was wrong stays in the log.
                if refused.expired:
                    return unauthorized(description="The access token expired.")
                return unauthorized(description="The access token is invalid.")
            if scope not in g.scopes:
                return insufficient_scope(scope)
            return view(*args, **kwargs)

        # Read by the test that every API route names its scope.
        wrapper.required_scope = scope
        return wrapper

    return decorate


@bp.post("/auth/register")
@limiter.limit(login_rate_limit)
@documented(
    "Register an account; its address gets a confirmation link",
    body=api_schemas.Registration,
    responses={202: ("The same answer for a new address and a taken one.", api_schemas.Message)},
)
def register():
    values = fields("email", "password")
    try:
        email = validate_email(values["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        return error("Enter a valid email address.", 400)
    password = values["password"]
    problem = password_problem(password, email=email)
    if problem:
        return error(problem, 400)
    email = normalize_email(email)
    # Hashed and counted for every address, new or taken: the same work either way.
    password_hash = hash_password(password)
    allowed = mail_allowed(email)
    user = User(email=email, password_hash=password_hash)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        tell_the_owner(email, allowed)
    else:
        current_app.logger.info(
            "account registered; confirmation link sent",
            extra={"event": "register", "user_id": user.id},
        )
        if allowed:
            send_confirmation(user)
    return jsonify(message=REGISTRATION_SENT), 202


@bp.post("/auth/token")
@limiter.limit(login_rate_limit)
@documented(
    "Log in: an access token, a refresh token and a device token",
    body=api_schemas.TokenRequest,
    responses={
        200: ("Logged in.", api_schemas.LoginTokens),
        400: (
            "The body does not fit, a scope is unknown, or none asked for is open to the account.",
            api_schemas.Problem,
        ),
        401: (
            "A wrong address or password, an address not confirmed, or (after the right "
            "password) a disabled account (invalid_grant).",
            api_schemas.Problem,
        ),
        403: (
            "The password was right and the account has two-factor log-in: "
            "POST /api/v1/auth/token/two-factor with a code finishes the log-in.",
            api_schemas.TwoFactorRequired,
        ),
        429: ("Too many log-ins, from this client or to this account.", api_schemas.Problem),
    },
)
def token():
    values = fields("email", "password")
    try:
        # Not optional_field: a scope that is not text must not mean "every scope".
        scopes = requested_scopes(json_object().get("scope"))
    except UnknownScopeError as unknown:
        return error(f"{unknown}; the scopes are: {scope_text(SCOPES)}.", 400)
    password = values["password"]
    email = normalize_email(values["email"])
    user = db.session.scalar(select(User).where(User.email == email))
    if login_throttle.attempt(email, user, optional_field("device_token")).held_back:
        # No password is checked: guessing stops here, whoever guesses.
        return error(LOGIN_HELD, 429)
    if user is None:
        spend_verification_time(password)
    elif verify_password(user.password_hash, password):
        if user.disabled_at is not None:
            # Told only after the password: it says nothing to a guesser.
            current_app.logger.info(
                "log-in refused: account disabled",
                extra={"event": "login_disabled", "user_id": user.id},
            )
            return unauthorized("invalid_grant", ACCOUNT_DISABLED)
        if user.email_verified_at is None:
            return _refuse_unconfirmed(user)
        scopes = granted_scopes(user, scopes)
        if not scopes:
            return error(NO_SCOPE_OPEN, 400)
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        if user.two_factor_enabled:
            db.session.commit()
            return _ask_for_second_factor(user, scopes)
        return logged_in(user, scopes)
    current_app.logger.warning(
        "log-in failed", extra={"event": "login_failed", "user_id": user.id if user else None}
    )
    if user is not None:
        record_unsolicited(user.id, "login_failed")
    return unauthorized("invalid_grant", LOGIN_FAILED)


def _ask_for_second_factor(user: User, scopes: frozenset[str]):
    """The password was right; no token yet, only a pending log-in that a
    code completes (api_two_factor.py)."""
    current_app.logger.info(
        "log-in waits for its second factor",
        extra={"event": "two_factor_asked", "user_id": user.id},
    )
    response = jsonify(
        error=TWO_FACTOR_REQUIRED,
        two_factor_token=pending_login_token(user, scope_text(scopes)),
        expires_in=PENDING_SECONDS,
    )
    response.status_code = 403
    return response


def _refuse_unconfirmed(user: User):
    """Refused like a wrong password: whoever registered a free address with
    a password of their choosing must not learn here that it was free. Its
    owner gets the confirmation link again."""
    current_app.logger.info(
        "log-in refused: address not confirmed",
        extra={"event": "login_unconfirmed", "user_id": user.id},
    )
    if mail_allowed(user.email):
        send_confirmation(user)
    return unauthorized("invalid_grant", LOGIN_FAILED)


@bp.post("/auth/refresh")
@limiter.limit(login_rate_limit)
@documented(
    "Trade a refresh token for new tokens (the old one is spent)",
    body=api_schemas.RefreshTokenBody,
    responses={
        200: ("New tokens, good for the log-in's scopes.", api_schemas.Tokens),
        401: (
            "The refresh token is unknown, spent or expired (invalid_grant).",
            api_schemas.Problem,
        ),
    },
)
def refresh():
    presented = fields("refresh_token")["refresh_token"]
    try:
        (user, scopes), following = rotate_refresh_token(presented)
    except RejectedTokenError as refused:
        current_app.logger.warning(
            "refresh refused", extra={"event": "refresh_refused", "reason": str(refused)}
        )
        return unauthorized("invalid_grant")
    current_app.logger.info("tokens refreshed", extra={"event": "refresh", "user_id": user.id})
    return token_response(user, scopes, following)


@bp.post("/auth/revoke")
@limiter.limit(login_rate_limit)
@documented(
    "Log out: revoke a refresh token",
    body=api_schemas.RefreshTokenBody,
    responses={204: ("Revoked, or never known (RFC 7009).", None)},
)
def revoke():
    revoke_refresh_token(fields("refresh_token")["refresh_token"])
    current_app.logger.info("refresh token revoked", extra={"event": "logout"})
    # The same answer whether or not the token existed (RFC 7009).
    return "", 204


@bp.get("/me")
@token_required("account")
@documented(
    "The caller's account",
    responses={200: ("The account.", api_schemas.Profile)},
)
def me():
    return jsonify(id=g.user.id, email=g.user.email)
