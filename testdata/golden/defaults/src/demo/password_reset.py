"""Password reset by a mailed link (account_links.py).

The request form answers the same for every address, known or not, and the
mail leaves after the response (mail.py), so neither the page nor its timing
tells whether an account exists. Requests are limited per client address
(LOGIN_RATE_LIMIT) and mail per address (ACCOUNT_MAIL_RATE_LIMIT). The link
expires after PASSWORD_RESET_MINUTES and dies with any change of the password
or the email. Using it ends every session of the account and confirms the
address (the mail reached its owner).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select, update

from .account_links import LinkForm, linked_account, mail_allowed, make_token
from .addresses import normalize_email
from .auth import AddressForm, NewPasswordForm, login_rate_limit
from .extensions import db, limiter
from .login_throttle import remember_device
from .mail import send_mail
from .models import User, new_auth_key
from .passwords import hash_password
from .security_events import record, record_unsolicited

bp = Blueprint("password_reset", __name__, url_prefix="/auth/reset")

PURPOSE = "password-reset"


class ResetForm(LinkForm, NewPasswordForm):
    """The new password, on the page the reset link opens."""


@bp.route("", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def request_link():
    form = AddressForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
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
                link=url_for(
                    "password_reset.choose", token=make_token(PURPOSE, user), _external=True
                ),
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
        return render_template("auth/reset_sent.html")
    return render_template("auth/reset_request.html", form=form), 400 if form.errors else 200


@bp.route("/new", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def choose():
    form = ResetForm()
    user = linked_account(PURPOSE, form)
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    form.account_email = user.email
    if not form.validate_on_submit():
        return render_template("auth/reset_new.html", form=form), 400 if form.errors else 200

    old_hash, new_hash = user.password_hash, hash_password(form.password.data)
    # Conditional on the hash the link was checked against: of two uses of
    # one link at once, exactly one changes the password.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == old_hash)
        .values(
            password_hash=new_hash,
            auth_key=new_auth_key(),
            email_verified_at=user.email_verified_at or datetime.now(UTC),
        )
    ).rowcount
    if changed == 1:
        record(user.id, "password_reset")
    db.session.commit()
    if changed != 1:
        return render_template("auth/reset_invalid.html"), 400
    current_app.logger.info(
        "password reset; every session ended", extra={"event": "password_reset", "user_id": user.id}
    )
    send_mail(
        user.email,
        "Your password was changed",
        "password_changed",
        reset_link=url_for("password_reset.request_link", _external=True),
    )
    flash(
        "Your password has been changed, and every session of your account ended. Please log in.",
        "info",
    )
    # The link proved the mailbox: this browser logs in even while log-ins
    # from unrecognised browsers are held back (login_throttle.py).
    return remember_device(redirect(url_for("auth.login")), user, full_log_in=False)
