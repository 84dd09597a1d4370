"""Changes a client makes to its user's account, with a valid access token
and the current password (re-authentication: a stolen access token alone is
not enough to take the account or destroy it). The requests that check the
current password share one allowance per client (LOGIN_RATE_LIMIT), so
guesses cannot be spread over them:

- a new password, which ends every other log-in (the account gets a new
  auth_key, which every access and refresh token carries) and answers with
  fresh tokens for this client;
- log out everywhere: every log-in ends, this one too;
- a new address, which becomes the account's only when the link mailed to it
  is used (api_links.py); the answer is the same whether the address is free
  or has an account (its owner is told instead);
- deleting the account: its row goes, and with it its refresh tokens and
  security events;
- the account's security events (security_events.py), newest first.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app, g, jsonify
from sqlalchemy import select

from . import api_schemas
from .account_links import mail_allowed, make_token
from .addresses import normalize_email
from .api import token_required, token_response
from .api_requests import api_blueprint, client_link, error, fields, login_rate_limit
from .extensions import db, limiter
from .mail import send_mail
from .models import User
from .openapi import documented
from .password_policy import password_problem
from .passwords import hash_password, verify_password
from .security_events import as_json, record
from .tokens import issue_refresh_token

bp = api_blueprint("api_account", "/api/v1/me")

REFUSED_CURRENT_CREDENTIAL = "This is not your current password."
ADDRESS_CHANGE_SENT = (
    "Check the new address's mail: unless it already has an account, we have sent it a link; "
    "the address changes when it is used."
)


def current_password_ok(user: User, password: str, event: str) -> bool:
    """Whether PASSWORD is the account's; a wrong one is logged as EVENT."""
    if verify_password(user.password_hash, password):
        return True
    current_app.logger.warning(
        "account change refused: wrong current password",
        extra={"event": event, "user_id": user.id},
    )
    record(user.id, event)
    db.session.commit()
    return False


@bp.post("/password")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "Change the password; every other log-in ends, and this client gets new tokens",
    body=api_schemas.PasswordChange,
    responses={
        200: ("Changed: new tokens with the caller's scopes.", api_schemas.LoginTokens),
        400: ("The body does not fit, or the new password is refused.", api_schemas.Problem),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
    },
)
def change_password():
    """{"current_password", "password"}: answers with tokens, and a device
    token, for this client."""
    values = fields("current_password", "password")
    user = g.user
    if not current_password_ok(user, values["current_password"], "password_change_failed"):
        # Not 401: the token is fine; clients take a 401 to mean it is not.
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    problem = password_problem(values["password"], email=user.email)
    if problem:
        return error(problem, 400)
    user.password_hash = hash_password(values["password"])
    user.end_all_log_ins()
    refresh_token = issue_refresh_token(user, g.scopes)
    record(user.id, "password_changed")
    db.session.commit()
    current_app.logger.info(
        "password changed; other log-ins ended",
        extra={"event": "password_changed", "user_id": user.id},
    )
    send_mail(
        user.email,
        "Your password was changed",
        "password_changed",
        reset_link=client_link("reset-password"),
        kept_this_one=True,
    )
    # The change voided every device token of the account: this client gets a new one.
    return token_response(user, g.scopes, refresh_token, new_device=True)


@bp.post("/log-out-everywhere")
@limiter.limit(login_rate_limit)
@token_required("account")
@documented(
    "End every log-in of the account, this one too",
    responses={204: ("Every refresh token is revoked.", None)},
)
def log_out_everywhere():
    """{}: every access and refresh token of the account ends, this one's too."""
    g.user.end_all_log_ins()
    record(g.user.id, "sessions_ended")
    db.session.commit()
    current_app.logger.info(
        "every log-in ended", extra={"event": "sessions_ended", "user_id": g.user.id}
    )
    return "", 204


@bp.post("/email")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "Ask to move the account to a new address, which gets a link",
    body=api_schemas.AddressChange,
    responses={
        202: ("Mailed, if the address can take it.", api_schemas.Message),
        400: (
            "The body does not fit, or the address is invalid or already this one.",
            api_schemas.Problem,
        ),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
    },
)
def change_address():
    """{"password", "email"}: mails a link to the new address."""
    values = fields("password", "email")
    user = g.user
    if not current_password_ok(user, values["password"], "address_change_failed"):
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    try:
        valid = validate_email(values["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        return error("Enter a valid email address.", 400)
    new_email = normalize_email(valid)
    if new_email == user.email:
        return error("This is already your address.", 400)
    owner = db.session.scalar(select(User).where(User.email == new_email))
    if mail_allowed(new_email):
        if owner is None:
            send_mail(
                new_email,
                "Confirm your new email address",
                "address_change",
                link=client_link(
                    "confirm-new-address", token=make_token("address-change", user, new_email)
                ),
                hours=current_app.config["EMAIL_VERIFICATION_HOURS"],
            )
        else:
            send_mail(
                owner.email,
                "Someone tried to move an account to your address",
                "address_change_taken",
                reset_link=client_link("reset-password"),
            )
    current_app.logger.info(
        "address change asked",
        extra={"event": "address_change_requested", "user_id": user.id},
    )
    record(user.id, "address_change_requested")
    db.session.commit()
    return jsonify(message=ADDRESS_CHANGE_SENT), 202


@bp.post("/delete")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@token_required("account")
@documented(
    "Delete the account and everything of it",
    body=api_schemas.CurrentPassword,
    responses={
        204: ("Deleted.", None),
        403: ("The current password is wrong, or the token lacks the scope.", api_schemas.Problem),
    },
)
def delete_account():
    """{"password"}: the account, its refresh tokens, security events and notes are deleted."""
    user = g.user
    if not current_password_ok(user, fields("password")["password"], "account_deletion_failed"):
        return error(REFUSED_CURRENT_CREDENTIAL, 403)
    user_id, email = user.id, user.email
    db.session.delete(user)
    db.session.commit()
    current_app.logger.info(
        "account deleted", extra={"event": "account_deleted", "user_id": user_id}
    )
    send_mail(email, "Your account was deleted", "account_deleted")
    return "", 204


@bp.get("/security-events")
@token_required("account")
@documented(
    "The account's recent security events, newest first",
    responses={200: ("The events.", api_schemas.SecurityEvents)},
)
def security_events():
    """The account's newest security events: what, when, from which client address."""
    return jsonify(events=as_json(g.user))
