"""The pages of passkeys (passkeys.py): the account's list, where its owner
adds one (with the current password, so a borrowed session cannot plant a
way back in) or removes one, and log-in with a passkey from the log-in page.

The browser's side is static/passkeys.js: each step is a form post (its
CSRF token in the form) that answers with the options for the browser, then
a JSON post of the browser's answer (the token in the X-CSRFToken header).
Adding and removing a passkey are security events, and the owner is mailed.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, ValidationError

from . import passkeys
from .account_security import current_password_field
from .auth import ACCOUNT_DISABLED, login_rate_limit, sign_in
from .extensions import db, limiter
from .login_throttle import remember_device
from .mail import send_mail
from .models import User
from .passwords import verify_password
from .security_events import record
from .sessions import safe_next

bp = Blueprint("passkey_views", __name__)

LOGIN_REFUSED = "This passkey did not log you in. Try again, or log in with your password."
NOT_ADDED = "The passkey was not added. Try again."
NO_HOST_NAME = (
    "Passkeys do not work at this address of the site: open it by its name, not an IP address "
    "(in development: http://localhost:5000)."
)


def printable(form: FlaskForm, field: StringField) -> None:
    if not (field.data or "").isprintable():
        raise ValidationError("A name cannot hold control characters.")


class AddForm(FlaskForm):
    name = StringField(
        "Name (to tell your passkeys apart)",
        validators=[
            DataRequired(),
            Length(
                max=passkeys.NAME_LENGTH,
                message=f"A name holds at most {passkeys.NAME_LENGTH} characters.",
            ),
            printable,
        ],
    )
    current = current_password_field()


class ButtonForm(FlaskForm):
    """Nothing but the CSRF token."""


@bp.app_template_global("passkeys_available")
def passkeys_available() -> bool:
    """Whether this request's host can have passkeys (the log-in page asks)."""
    return passkeys.available()


def _problem(message: str, status: int) -> tuple[Response, int]:
    return jsonify(error=message), status


def _options(text: str) -> Response:
    return Response(text, mimetype="application/json")


@bp.get("/account/passkeys")
@login_required
def settings():
    user = current_user._get_current_object()
    return render_template(
        "account/passkeys.html",
        passkeys=passkeys.passkeys_of(user.id),
        form=AddForm(),
        remove_form=ButtonForm(),
        available=passkeys.available(),
        limit=passkeys.PASSKEYS_PER_ACCOUNT,
    )


@bp.post("/account/passkeys/options")
@login_required
@limiter.limit(login_rate_limit)
def registration_options():
    user = current_user._get_current_object()
    if not passkeys.available():
        return _problem(NO_HOST_NAME, 400)
    form = AddForm()
    if not form.validate():
        problems = [error for errors in form.errors.values() for error in errors]
        return _problem(" ".join(problems), 400)
    if passkeys.count_of(user.id) >= passkeys.PASSKEYS_PER_ACCOUNT:
        return _problem(
            f"An account holds at most {passkeys.PASSKEYS_PER_ACCOUNT} passkeys: remove one first.",
            409,
        )
    if not verify_password(user.password_hash, form.current.data):
        current_app.logger.warning(
            "passkey refused: wrong current password",
            extra={"event": "passkey_change_failed", "user_id": user.id},
        )
        record(user.id, "passkey_change_failed")
        db.session.commit()
        return _problem("This is not your current password.", 401)
    return _options(passkeys.registration_options(user, form.name.data.strip()))


@bp.post("/account/passkeys")
@login_required
@limiter.limit(login_rate_limit)
def add():
    user = current_user._get_current_object()
    try:
        passkey = passkeys.register(user, request.get_json(silent=True))
    except passkeys.PasskeyRefusedError as refused:
        current_app.logger.warning(
            "passkey not added",
            extra={"event": "passkey_refused", "user_id": user.id, "reason": str(refused)},
        )
        return _problem(NOT_ADDED, 400)
    record(user.id, "passkey_added")
    db.session.commit()
    current_app.logger.info("passkey added", extra={"event": "passkey_added", "user_id": user.id})
    _tell_the_owner(user, "A passkey was added to your account", f"added: {passkey.name}")
    flash(f"Passkey added: {passkey.name}.", "info")
    return jsonify(redirect=url_for("passkey_views.settings")), 201


@bp.post("/account/passkeys/<int:passkey_id>/remove")
@login_required
def remove(passkey_id: int):
    user = current_user._get_current_object()
    if not ButtonForm().validate_on_submit():
        abort(400)
    passkey = passkeys.passkey_of(user.id, passkey_id)
    if passkey is None:
        abort(404)
    name = passkey.name
    db.session.delete(passkey)
    record(user.id, "passkey_removed")
    db.session.commit()
    current_app.logger.info(
        "passkey removed", extra={"event": "passkey_removed", "user_id": user.id}
    )
    _tell_the_owner(user, "A passkey was removed from your account", f"removed: {name}")
    flash(f"Passkey removed: {name}. It no longer logs in.", "info")
    return redirect(url_for("passkey_views.settings"))


@bp.post("/auth/passkey/options")
@limiter.limit(login_rate_limit)
def login_options():
    if current_user.is_authenticated:
        return jsonify(redirect=url_for("main.account")), 409
    if not passkeys.available():
        return _problem(NO_HOST_NAME, 400)
    if not ButtonForm().validate_on_submit():
        abort(400)
    return _options(passkeys.authentication_options(safe_next(request.args.get("next"))))


@bp.post("/auth/passkey")
@limiter.limit(login_rate_limit)
def login():
    if current_user.is_authenticated:
        return jsonify(redirect=url_for("main.account")), 409
    try:
        user, next_url = passkeys.authenticate(request.get_json(silent=True))
    except passkeys.PasskeyRefusedError as refused:
        db.session.rollback()
        current_app.logger.warning(
            "passkey log-in refused",
            extra={"event": "passkey_login_failed", "reason": str(refused)},
        )
        return _problem(LOGIN_REFUSED, 401)
    if user.disabled_at is not None:
        db.session.rollback()
        current_app.logger.info(
            "passkey log-in refused: account disabled",
            extra={"event": "login_disabled", "user_id": user.id},
        )
        return _problem(ACCOUNT_DISABLED, 403)
    sign_in(user, "passkey_login")
    response = jsonify(redirect=next_url or url_for("main.account"))
    return remember_device(response, user, full_log_in=True)


def _tell_the_owner(user: User, subject: str, change: str) -> None:
    send_mail(
        user.email,
        subject,
        "passkey_changed",
        change=change,
        settings_link=url_for("passkey_views.settings", _external=True),
        reset_link=url_for("password_reset.request_link", _external=True),
    )
