"""Address confirmation: the link mailed at registration (account_links.py),
and a new one on request.

The link's page asks for the account's password before it confirms: the
mail proves the address, the password proves that its owner is the one who
registered, so an owner who follows a link to an account someone else made
with their address cannot hand that account to its maker (they reset the
password instead, which also confirms). A mail scanner that opens links
confirms nothing. A link works for
EMAIL_VERIFICATION_HOURS and dies once the address is confirmed. The resend
form answers the same for every address; it mails only an account that is
still unconfirmed. An account left unconfirmed for UNCONFIRMED_ACCOUNT_DAYS
is deleted by `flask users purge-unconfirmed` (users_cli.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select, update
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from .account_links import LinkForm, linked_account, mail_allowed
from .addresses import normalize_email
from .auth import AddressForm, login_rate_limit, send_confirmation
from .extensions import db, limiter
from .models import User
from .password_policy import MAX_PASSWORD_LENGTH
from .passwords import verify_password
from .security_events import record

bp = Blueprint("address_confirmation", __name__, url_prefix="/auth/confirm")

PURPOSE = "address-confirmation"


class ConfirmForm(LinkForm):
    password = PasswordField(
        "Your password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


@bp.route("", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def confirm():
    form = ConfirmForm()
    user = linked_account(PURPOSE, form)
    if user is None:
        return render_template("auth/confirm_invalid.html"), 400
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("auth/confirm.html", form=form, email=user.email), status
    if not verify_password(user.password_hash, form.password.data):
        current_app.logger.warning(
            "address confirmation refused: wrong password",
            extra={"event": "address_confirmation_failed", "user_id": user.id},
        )
        form.password.errors.append(
            "This is not the password of this account. If you did not register it, "
            "reset its password instead."
        )
        return render_template("auth/confirm.html", form=form, email=user.email), 401
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
    flash("Your address is confirmed. Please log in.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/again", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def resend():
    form = AddressForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        allowed = mail_allowed(email)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and user.email_verified_at is None and allowed:
            send_confirmation(user)
            current_app.logger.info(
                "confirmation link sent again",
                extra={"event": "confirmation_resent", "user_id": user.id},
            )
        return render_template("auth/register_sent.html", email=email)
    return render_template("auth/confirm_resend.html", form=form), 400 if form.errors else 200
