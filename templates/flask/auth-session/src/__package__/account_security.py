"""Changes a signed-in user makes to their account's security: a new
password (the current one required) and ending every session at once.

Both give the account a new auth_key (User.end_all_sessions): every session,
remember cookie and device cookie (login_throttle.py) made before stops
working, whatever the cache choice. The browser that asked gets a fresh
device cookie, and after a password change a fresh session.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, login_user, logout_user
from wtforms import PasswordField
from wtforms.validators import DataRequired, Length

from .auth import NewPasswordForm, login_rate_limit
from .extensions import db, limiter
from .login_throttle import remember_device
from .mail import send_mail
from .password_policy import MAX_PASSWORD_LENGTH
from .passwords import hash_password, verify_password
from .security_events import record
from .sessions import end_session, renew_session

bp = Blueprint("account_security", __name__, url_prefix="/account")


def current_password_field() -> PasswordField:
    """The account's current password, asked again before a sensitive change."""
    return PasswordField(
        "Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


class ChangePasswordForm(NewPasswordForm):
    current = current_password_field()


@bp.route("/password", methods=["GET", "POST"])
@login_required
@limiter.limit(login_rate_limit, methods=["POST"])
def change_password():
    form = ChangePasswordForm()
    form.account_email = current_user.email
    if form.validate_on_submit():
        user = current_user._get_current_object()
        if not verify_password(user.password_hash, form.current.data):
            current_app.logger.warning(
                "password change refused: wrong current password",
                extra={"event": "password_change_failed", "user_id": user.id},
            )
            record(user.id, "password_change_failed")
            db.session.commit()
            form.current.errors.append("This is not your current password.")
            return render_template("account/password.html", form=form), 401
        user.password_hash = hash_password(form.password.data)
        user.end_all_sessions()
        record(user.id, "password_changed")
        db.session.commit()
        renew_session()
        login_user(user)
        current_app.logger.info(
            "password changed; other sessions ended",
            extra={"event": "password_changed", "user_id": user.id},
        )
        send_mail(
            user.email,
            "Your password was changed",
            "password_changed",
            reset_link=url_for("password_reset.request_link", _external=True),
        )
        flash(
            "Your password has been changed. Every other session of your account has ended.", "info"
        )
        # The account's device cookies died with its auth_key; this browser keeps its place.
        return remember_device(redirect(url_for("main.account")), user, full_log_in=True)
    return render_template("account/password.html", form=form), 400 if form.errors else 200


@bp.post("/sessions/end")
@login_required
def end_all_sessions():
    user = current_user._get_current_object()
    user.end_all_sessions()
    record(user.id, "sessions_ended")
    db.session.commit()
    logout_user()
    end_session()
    current_app.logger.info(
        "every session ended", extra={"event": "sessions_ended", "user_id": user.id}
    )
    flash("Every session of your account has ended, this one too. Please log in again.", "info")
    # Every other browser's device cookie died with the auth_key; this one's is renewed.
    return remember_device(redirect(url_for("auth.login")), user, full_log_in=True)
