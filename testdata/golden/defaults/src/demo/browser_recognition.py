"""The link mailed when log-ins to an account are held back (login_throttle.py):
it makes the browser it is opened in one of the owner's, which then logs in
on its own allowance while strangers stay locked out.

The link works for PASSWORD_RESET_MINUTES and dies with any change of the
password, the address or the sessions. Its page has a button, so a mail
scanner that opens links changes nothing; the link signs nobody in, and the
password is still needed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for

from .account_links import LinkForm, linked_account
from .auth import login_rate_limit
from .extensions import limiter
from .login_throttle import PURPOSE, remember_device

bp = Blueprint("browser_recognition", __name__, url_prefix="/auth/recognise")


@bp.route("", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def recognise():
    form = LinkForm()
    user = linked_account(PURPOSE, form)
    if user is None:
        return render_template("auth/recognise_invalid.html"), 400
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("auth/recognise.html", form=form, email=user.email), status
    current_app.logger.info(
        "browser recognised through the mailed link",
        extra={"event": "browser_recognised", "user_id": user.id},
    )
    flash("This browser can now log in to your account. Please log in.", "info")
    return remember_device(redirect(url_for("auth.login")), user, full_log_in=False)
