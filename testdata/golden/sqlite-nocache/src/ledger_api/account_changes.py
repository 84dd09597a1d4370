"""A signed-in user changes their account's address or deletes the account.
Both ask for the current password (re-authentication): an unattended
session is not enough to take the account or destroy it.

A new address becomes the account's only when a link mailed to it is used,
within EMAIL_VERIFICATION_HOURS; the link dies with any change of the
password or the address. The answer is the same whether the new address is
free or has an account (its owner is told instead), so the form tells nobody
which addresses have accounts. Once the address changes, every session ends
and the old address is told where the account went.

Deleting removes the account's row (and with it everything that refers to
it), ends every session and mails the address a confirmation.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField
from wtforms.validators import DataRequired, Email, Length

from .account_links import LinkForm, account_and_details, link_token, mail_allowed, make_token
from .account_security import current_password_field
from .addresses import normalize_email
from .auth import login_rate_limit
from .extensions import db, limiter
from .mail import hint, send_mail
from .models import User, new_auth_key
from .passwords import verify_password
from .security_events import record
from .sessions import end_session

bp = Blueprint("account_changes", __name__, url_prefix="/account")

PURPOSE = "address-change"


class ChangeAddressForm(FlaskForm):
    email = EmailField(
        "New email address",
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    current = current_password_field()


class DeleteAccountForm(FlaskForm):
    current = current_password_field()


def _password_refused(form: FlaskForm, template: str, event: str):
    """Render ``template`` again with "wrong password", 401, and log ``event``."""
    current_app.logger.warning(
        "account change refused: wrong current password",
        extra={"event": event, "user_id": current_user.id},
    )
    record(current_user.id, event)
    db.session.commit()
    form.current.errors.append("This is not your current password.")
    return render_template(template, form=form), 401


@bp.route("/email", methods=["GET", "POST"])
@login_required
@limiter.limit(login_rate_limit, methods=["POST"])
def change_address():
    form = ChangeAddressForm()
    if not form.validate_on_submit():
        return render_template("account/email.html", form=form), 400 if form.errors else 200
    user = current_user._get_current_object()
    if not verify_password(user.password_hash, form.current.data):
        return _password_refused(form, "account/email.html", "address_change_failed")
    new_email = normalize_email(form.email.data)
    if new_email == user.email:
        form.email.errors.append("This is already your address.")
        return render_template("account/email.html", form=form), 400
    owner = db.session.scalar(select(User).where(User.email == new_email))
    if mail_allowed(new_email):
        if owner is None:
            send_mail(
                new_email,
                "Confirm your new email address",
                "address_change",
                link=url_for(
                    "account_changes.confirm_address",
                    token=make_token(PURPOSE, user, new_email),
                    _external=True,
                ),
                hours=current_app.config["EMAIL_VERIFICATION_HOURS"],
            )
        else:
            send_mail(
                owner.email,
                "Someone tried to move an account to your address",
                "address_change_taken",
                reset_link=url_for("password_reset.request_link", _external=True),
            )
    current_app.logger.info(
        "address change asked; link sent to the new address",
        extra={"event": "address_change_requested", "user_id": user.id},
    )
    record(user.id, "address_change_requested")
    db.session.commit()
    return render_template("account/email_sent.html", email=new_email)


@bp.route("/email/confirm", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def confirm_address():
    """The page the link opens: a button, so that a mail scanner that opens
    links changes nothing."""
    form = LinkForm()
    found = account_and_details(PURPOSE, link_token(form))
    if found is None or len(found[1]) != 1:
        return render_template("account/email_invalid.html"), 400
    user, (new_email,) = found
    if not form.validate_on_submit():
        return render_template("account/email_confirm.html", form=form, email=new_email), (
            400 if form.errors else 200
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
        return render_template("account/email_taken.html", email=new_email), 409
    if changed != 1:
        return render_template("account/email_invalid.html"), 400
    current_app.logger.info(
        "address changed; every session ended",
        extra={"event": "address_changed", "user_id": user.id},
    )
    send_mail(
        old_email,
        "Your account's email address was changed",
        "address_changed",
        new_email=hint(new_email),
    )
    logout_user()
    end_session()
    flash(
        "Your account's address is now the new one, and every session of your account ended. "
        "Please log in with it.",
        "info",
    )
    return redirect(url_for("auth.login"))


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(login_rate_limit, methods=["POST"])
def delete_account():
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return render_template("account/delete.html", form=form), 400 if form.errors else 200
    user = current_user._get_current_object()
    if not verify_password(user.password_hash, form.current.data):
        return _password_refused(form, "account/delete.html", "account_deletion_failed")
    user_id, email = user.id, user.email
    db.session.delete(user)
    db.session.commit()
    logout_user()
    end_session()
    current_app.logger.info(
        "account deleted", extra={"event": "account_deleted", "user_id": user_id}
    )
    send_mail(email, "Your account was deleted", "account_deleted")
    flash("Your account has been deleted, and every session of it ended.", "info")
    return redirect(url_for("main.index"))
