"""The API's side of the links it mails (account_links.py): address
confirmation, password reset and the confirmation of a new address.

A link opens a page of the client application (CLIENT_APP_URL), which sends
the link's token back here with what the page asked for. Requests for a
link answer the same for every address, known or not, and the mail leaves
after the response (mail.py), so neither the answer nor its timing tells
whether an account exists. Requests are limited per client address
(LOGIN_RATE_LIMIT) and mail per address (ACCOUNT_MAIL_RATE_LIMIT).

- Confirmation: the link works for EMAIL_VERIFICATION_HOURS and dies once
  the address is confirmed. It confirms only with the account's password, so
  the owner of an address someone else registered cannot hand that account
  to them (they reset its password instead, which also confirms).
- Reset: the link works for PASSWORD_RESET_MINUTES and dies with any change
  of the password or the address. Using it gives the account a new auth_key,
  which ends every access and refresh token, and confirms the address.
- New address (asked for through api_account.py): the link carries the new
  address, works for EMAIL_VERIFICATION_HOURS and dies with any change of the
  password, the address or the auth_key. Using it ends every log-in of the
  account and tells the old address where the account went.
- Device recognition (mailed while log-ins are held back, login_throttle.py):
  the link works for PASSWORD_RESET_MINUTES and dies with any change of the
  password, the address or the auth_key. It gets the client a device token;
  it logs nobody in.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, jsonify
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from . import api_schemas
from .account_links import account_and_details, account_for, mail_allowed, make_token
from .addresses import normalize_email
from .api_requests import (
    MAX_EMAIL_LENGTH,
    MAX_LINK_TOKEN_LENGTH,
    api_blueprint,
    client_link,
    error,
    fields,
    login_rate_limit,
)
from .extensions import db, limiter
from .login_throttle import PURPOSE as RECOGNITION
from .login_throttle import device_credential
from .mail import hint, send_mail
from .models import User, new_auth_key
from .openapi import documented
from .password_policy import password_problem
from .passwords import hash_password, verify_password
from .security_events import record, record_unsolicited

bp = api_blueprint("api_links", "/api/v1/auth")

REGISTRATION_SENT = (
    "Check your mail: unless the address already has an account, we have sent it a link to "
    "confirm it, and then you can log in."
)
RESET_SENT = "If an account uses that address, a link to reset its password is on its way."
LINK_INVALID = (
    "This link does not work: it has expired, was already used, or the account changed "
    "since it was sent. Ask for a new one."
)


def send_confirmation(user: User) -> None:
    send_mail(
        user.email,
        "Confirm your email address",
        "confirm_address",
        link=client_link("confirm-address", token=make_token("address-confirmation", user)),
        hours=current_app.config["EMAIL_VERIFICATION_HOURS"],
    )


def tell_the_owner(email: str, allowed: bool) -> None:
    """Someone registered with an address that has an account: tell its owner,
    not the one who asked."""
    owner = db.session.scalar(select(User).where(User.email == email))
    current_app.logger.info(
        "registration with a taken address; its owner is told",
        extra={"event": "register_taken", "user_id": owner.id if owner else None},
    )
    if owner is not None:
        record_unsolicited(owner.id, "register_taken")
    if owner is not None and allowed:
        send_mail(
            owner.email,
            "Someone tried to register with your address",
            "registration_attempt",
            login_link=client_link("log-in"),
            reset_link=client_link("reset-password"),
        )


def _link_token(value: str) -> str | None:
    return value if len(value) <= MAX_LINK_TOKEN_LENGTH else None


def _address(value: str) -> str | None:
    return normalize_email(value) if len(value) <= MAX_EMAIL_LENGTH else None


@bp.post("/confirm")
@limiter.limit(login_rate_limit)
@documented(
    "Confirm the address with the mailed link's token and the password",
    body=api_schemas.LinkTokenAndPassword,
    responses={
        200: ("Confirmed.", api_schemas.Message),
        400: ("The link is invalid, used or expired.", api_schemas.Problem),
        403: ("The password is not the account's.", api_schemas.Problem),
    },
)
def confirm():
    """Confirm an address: {"token": from the link, "password": the account's}."""
    values = fields("token", "password")
    token = _link_token(values["token"])
    user = account_for("address-confirmation", token) if token else None
    if user is None:
        return error(LINK_INVALID, 400)
    if not verify_password(user.password_hash, values["password"]):
        current_app.logger.warning(
            "address confirmation refused: wrong password",
            extra={"event": "address_confirmation_failed", "user_id": user.id},
        )
        return error(
            "This is not the password of this account. If you did not register it, "
            "reset its password instead.",
            # Not 401: the request is not missing a token, and clients take a
            # 401 from this API to mean that their access token is no good.
            403,
        )
    confirmed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.email_verified_at.is_(None))
        .values(email_verified_at=datetime.now(UTC))
    ).rowcount
    if confirmed == 1:
        record(user.id, "address_confirmed")
    db.session.commit()
    current_app.logger.info(
        "address confirmed", extra={"event": "address_confirmed", "user_id": user.id}
    )
    return jsonify(message="Your address is confirmed. You can log in.")


@bp.post("/confirm/again")
@limiter.limit(login_rate_limit)
@documented(
    "Mail the confirmation link again",
    body=api_schemas.Address,
    responses={202: ("The same answer for every address.", api_schemas.Message)},
)
def resend_confirmation():
    """A new confirmation link: {"email": ...}; the same answer for every address."""
    email = _address(fields("email")["email"])
    if email is None:
        return error("Enter a valid email address.", 400)
    allowed = mail_allowed(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None and user.email_verified_at is None and allowed:
        send_confirmation(user)
        current_app.logger.info(
            "confirmation link sent again",
            extra={"event": "confirmation_resent", "user_id": user.id},
        )
    return jsonify(message=REGISTRATION_SENT), 202


@bp.post("/reset")
@limiter.limit(login_rate_limit)
@documented(
    "Mail a password reset link",
    body=api_schemas.Address,
    responses={202: ("The same answer for every address.", api_schemas.Message)},
)
def request_reset():
    """A password reset link: {"email": ...}; the same answer for every address."""
    email = _address(fields("email")["email"])
    if email is None:
        return error("Enter a valid email address.", 400)
    # Counted for every address, known or not: the same work either way.
    allowed = mail_allowed(email)
    user = db.session.scalar(select(User).where(User.email == email))
    if user is not None:
        record_unsolicited(user.id, "password_reset_requested")
    if user is not None and allowed:
        send_mail(
            user.email,
            "Reset your password",
            "password_reset",
            link=client_link("reset-password", token=make_token("password-reset", user)),
            minutes=current_app.config["PASSWORD_RESET_MINUTES"],
        )
        current_app.logger.info(
            "password reset link sent",
            extra={"event": "password_reset_requested", "user_id": user.id},
        )
    elif user is not None:
        current_app.logger.warning(
            "password reset mail limit reached; no mail sent",
            extra={"event": "password_reset_limited", "user_id": user.id},
        )
    else:
        current_app.logger.info(
            "password reset asked for an unknown address",
            extra={"event": "password_reset_unknown"},
        )
    return jsonify(message=RESET_SENT), 202


@bp.post("/reset/new")
@limiter.limit(login_rate_limit)
@documented(
    "Set a new password with the mailed reset link's token; every log-in ends",
    body=api_schemas.LinkTokenAndPassword,
    responses={
        200: ("Changed; log in again.", api_schemas.MessageAndDevice),
        400: (
            "The link is invalid, used or expired, or the password is refused.",
            api_schemas.Problem,
        ),
    },
)
def reset_password():
    """Choose a new password: {"token": from the link, "password": the new one}."""
    values = fields("token", "password")
    token = _link_token(values["token"])
    user = account_for("password-reset", token) if token else None
    if user is None:
        return error(LINK_INVALID, 400)
    problem = password_problem(values["password"], email=user.email)
    if problem:
        return error(problem, 400)
    old_hash, new_hash = user.password_hash, hash_password(values["password"])
    # Conditional on the hash the link was checked against: of two uses of
    # one link at once, exactly one changes the password.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == old_hash)
        .values(
            password_hash=new_hash,
            # Every access and refresh token carries the old key: all end.
            auth_key=new_auth_key(),
            email_verified_at=user.email_verified_at or datetime.now(UTC),
        )
    ).rowcount
    if changed == 1:
        record(user.id, "password_reset")
    db.session.commit()
    if changed != 1:
        return error(LINK_INVALID, 400)
    current_app.logger.info(
        "password reset; every token ended", extra={"event": "password_reset", "user_id": user.id}
    )
    send_mail(
        user.email,
        "Your password was changed",
        "password_changed",
        reset_link=client_link("reset-password"),
        kept_this_one=False,
    )
    return jsonify(
        message="Your password has been changed, and every log-in ended. Log in again.",
        # A reset lets its device log in while strangers are held back (login_throttle.py).
        device_token=device_credential(user, full_log_in=False),
    )


@bp.post("/recognise")
@limiter.limit(login_rate_limit)
@documented(
    "Let this client log in while strangers are held back (mailed link's token)",
    body=api_schemas.LinkToken,
    responses={
        200: ("A device token for this client.", api_schemas.MessageAndDevice),
        400: ("The link is invalid or expired.", api_schemas.Problem),
    },
)
def recognise_device():
    """{"token": from the link mailed while log-ins are held back}: answers
    with a device token, with which this client logs in on an allowance of
    its own while strangers stay held back. The password is still needed."""
    token = _link_token(fields("token")["token"])
    user = account_for(RECOGNITION, token) if token else None
    if user is None:
        return error(LINK_INVALID, 400)
    current_app.logger.info(
        "device recognised through the mailed link",
        extra={"event": "browser_recognised", "user_id": user.id},
    )
    return jsonify(
        message="This device can now log in to your account, with your password.",
        device_token=device_credential(user, full_log_in=False),
    )


@bp.post("/email/confirm")
@limiter.shared_limit(login_rate_limit, scope="current-password")
@documented(
    "Move the account to the new address with the link mailed there and the password",
    body=api_schemas.LinkTokenAndPassword,
    responses={
        200: ("Moved; log in with the new address.", api_schemas.MessageAndDevice),
        400: ("The link is invalid, used or expired.", api_schemas.Problem),
        403: ("The password is not the account's.", api_schemas.Problem),
        409: ("The address now belongs to another account.", api_schemas.Problem),
    },
)
def confirm_new_address():
    """Make the new address the account's: {"token": from the link,
    "password": the account's}. The password, not the link alone: a client
    page that sends the token as it opens, or a mail scanner that runs it,
    changes nothing, and whoever asks to move their own account to someone
    else's address cannot get that address's owner to confirm it."""
    values = fields("token", "password")
    token = _link_token(values["token"])
    found = account_and_details("address-change", token) if token else None
    if found is None or len(found[1]) != 1:
        return error(LINK_INVALID, 400)
    user, (new_email,) = found
    if not verify_password(user.password_hash, values["password"]):
        # Logged, not stored as a security event: whoever holds the link could
        # otherwise write events at will and push the owner's out of the list.
        current_app.logger.warning(
            "address change refused: wrong password",
            extra={"event": "address_change_failed", "user_id": user.id},
        )
        return error(
            "This is not the password of the account that asked for this address.",
            # Not 401: the request is not missing a token (see confirm).
            403,
        )
    old_email = user.email
    # Conditional on what the link was checked against: of two links used at
    # once, or a link and a password change, exactly one wins.
    try:
        changed = db.session.execute(
            update(User)
            .where(
                User.id == user.id,
                User.email == old_email,
                User.password_hash == user.password_hash,
                User.auth_key == user.auth_key,
            )
            .values(email=new_email, email_verified_at=datetime.now(UTC), auth_key=new_auth_key())
        ).rowcount
        if changed == 1:
            record(user.id, "address_changed")
        db.session.commit()
    except IntegrityError:
        # Registered by someone else since the link was sent.
        db.session.rollback()
        return error("This address now belongs to another account.", 409)
    if changed != 1:
        return error(LINK_INVALID, 400)
    current_app.logger.info(
        "address changed; every log-in ended",
        extra={"event": "address_changed", "user_id": user.id},
    )
    send_mail(
        old_email,
        "Your account's email address was changed",
        "address_changed",
        new_email=hint(new_email),
    )
    return jsonify(
        message="Your account's address is the new one. Log in with it.",
        # The change voided every device token of the account (login_throttle.py).
        device_token=device_credential(user, full_log_in=False),
    )
