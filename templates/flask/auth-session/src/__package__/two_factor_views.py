"""The pages of two-factor log-in (two_factor.py): the second step of a
log-in, and turning it on, off and making new recovery codes from the
account page.

Turning it on needs the current password and a code from the app, so the
app really holds the secret; it ends every other session (none of them
passed a second factor). Turning it off and new recovery codes need the
current password. Each change is a security event, and the owner is mailed.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_required, login_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from . import passkeys, two_factor
from .account_security import current_password_field
from .auth import complete_login, login_rate_limit
from .extensions import db, limiter
from .login_throttle import DEVICE_COOKIE, remember_device
from .mail import send_mail
from .models import User
from .passwords import verify_password
from .security_events import record, record_unsolicited
from .sessions import renew_session
from .stored_secrets import UnreadableSecretError, decrypt, encrypt

bp = Blueprint("two_factor_views", __name__)

# The secret being set up, encrypted, in the session until a code confirms it.
SETUP_KEY = "two_factor_setup"
SETUP_SECONDS = 600

TOO_MANY = (
    "Too many attempts at a code for this account from browsers not used with it. "
    "Wait a while, then log in again, or log in from a browser you have used before."
)


def code_field(label: str) -> StringField:
    return StringField(label, validators=[DataRequired(), Length(max=two_factor.MAX_CODE_LENGTH)])


class LoginCodeForm(FlaskForm):
    code = code_field("Code from your authenticator app, or a recovery code")


class SetupForm(FlaskForm):
    current = current_password_field()
    code = code_field("Code from your authenticator app")


class PasswordForm(FlaskForm):
    current = current_password_field()


@bp.route("/auth/two-factor", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    pending = two_factor.pending_login()
    if pending is None:
        flash("Please log in again: the log-in waited too long for its code.", "info")
        return redirect(url_for("auth.login"))
    user = pending.user
    form = LoginCodeForm()
    if form.validate_on_submit():
        device = request.cookies.get(DEVICE_COOKIE, "")
        if not two_factor.spend_attempt(user, device):
            # No code is checked once the account's allowance is spent.
            current_app.logger.warning(
                "two-factor attempts held back",
                extra={"event": "two_factor_held", "user_id": user.id},
            )
            flash(TOO_MANY, "error")
            return render_template("auth/two_factor.html", form=form), 429
        if two_factor.accept_totp(user, form.code.data):
            return complete_login(user, pending.next_url)
        if two_factor.accept_recovery_code(user, form.code.data):
            record(user.id, "recovery_code_used")
            left = two_factor.recovery_codes_left(user)
            response = complete_login(user, pending.next_url)
            flash(
                f"You logged in with a recovery code; {left} left. "
                "Make new ones on the two-factor page if you are running low.",
                "info",
            )
            return response
        db.session.commit()
        current_app.logger.warning(
            "two-factor code refused", extra={"event": "two_factor_failed", "user_id": user.id}
        )
        record_unsolicited(user.id, "two_factor_failed")
        form.code.errors.append("This code is not right, or was used already.")
        return render_template("auth/two_factor.html", form=form), 401
    return render_template("auth/two_factor.html", form=form), 400 if form.errors else 200


@bp.get("/account/two-factor")
@login_required
def settings():
    return _settings_page(PasswordForm(prefix="codes"), PasswordForm(prefix="off"))


def _settings_page(codes_form: PasswordForm, off_form: PasswordForm, status: int = 200):
    user = current_user._get_current_object()
    left = two_factor.recovery_codes_left(user) if user.two_factor_enabled else 0
    return (
        render_template(
            "account/two_factor.html",
            user=user,
            codes_left=left,
            codes_form=codes_form,
            off_form=off_form,
        ),
        status,
    )


@bp.route("/account/two-factor/setup", methods=["GET", "POST"])
@login_required
@limiter.limit(login_rate_limit, methods=["POST"])
def setup():
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        return redirect(url_for("two_factor_views.settings"))
    form = SetupForm()
    secret = _setup_secret()
    if form.is_submitted() and secret is None:
        flash("The set-up took too long, so here is a new secret: add it to your app.", "info")
    if secret is None or not form.is_submitted():
        # Every visit starts over with a new secret.
        secret = two_factor.new_secret()
        session[SETUP_KEY] = encrypt(secret)
        return _setup_page(form, secret)
    if not form.validate():
        return _setup_page(form, secret, 400)
    if not verify_password(user.password_hash, form.current.data):
        current_app.logger.warning(
            "two-factor change refused: wrong current password",
            extra={"event": "two_factor_change_failed", "user_id": user.id},
        )
        record(user.id, "two_factor_change_failed")
        db.session.commit()
        form.current.errors.append("This is not your current password.")
        return _setup_page(form, secret, 401)
    step = two_factor.matching_step(secret, form.code.data)
    if step is None:
        form.code.errors.append(
            "This code does not match. Check that the app shows this account, and its clock."
        )
        return _setup_page(form, secret, 400)
    codes = two_factor.turn_on(user, secret, step)
    if codes is None:
        # Another set-up request turned it on first; its page shows the codes.
        db.session.rollback()
        return redirect(url_for("two_factor_views.settings"))
    # Sessions that never passed a second factor end; this browser keeps its place.
    user.end_all_sessions()
    record(user.id, "two_factor_enabled")
    db.session.commit()
    renew_session()
    login_user(user)
    current_app.logger.info(
        "two-factor log-in turned on; other sessions ended",
        extra={"event": "two_factor_enabled", "user_id": user.id},
    )
    _tell_the_owner(user, "Two-factor log-in was turned on", "turned on")
    # Passkeys stay: each logs in without a code, so whoever added one with
    # the password alone would keep a way in. The owner is shown them.
    page = render_template(
        "account/recovery_codes.html",
        codes=codes,
        first_time=True,
        passkeys=passkeys.count_of(user.id),
    )
    return remember_device(current_app.make_response(page), user, full_log_in=True)


def _setup_secret() -> str | None:
    stored = session.get(SETUP_KEY)
    if not isinstance(stored, str):
        return None
    try:
        return decrypt(stored, max_age=SETUP_SECONDS)
    except UnreadableSecretError:
        return None


def _setup_page(form: SetupForm, secret: str, status: int = 200):
    uri = two_factor.setup_uri(secret, current_user.email)
    return (
        render_template(
            "account/two_factor_setup.html",
            form=form,
            qr_code=two_factor.qr_code(uri),
            secret=two_factor.spaced(secret),
        ),
        status,
    )


@bp.post("/account/two-factor/recovery-codes")
@login_required
@limiter.limit(login_rate_limit)
def new_recovery_codes():
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        return redirect(url_for("two_factor_views.settings"))
    form = PasswordForm(prefix="codes")
    refused = _refused(form, user)
    if refused is not None:
        return _settings_page(form, PasswordForm(prefix="off"), refused)
    codes = two_factor.new_recovery_codes(user)
    record(user.id, "recovery_codes_renewed")
    db.session.commit()
    current_app.logger.info(
        "new recovery codes made", extra={"event": "recovery_codes_renewed", "user_id": user.id}
    )
    _tell_the_owner(
        user,
        "New recovery codes were made",
        "given new recovery codes; the old ones no longer work",
    )
    return render_template("account/recovery_codes.html", codes=codes, first_time=False)


@bp.post("/account/two-factor/off")
@login_required
@limiter.limit(login_rate_limit)
def turn_off():
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        return redirect(url_for("two_factor_views.settings"))
    form = PasswordForm(prefix="off")
    refused = _refused(form, user)
    if refused is not None:
        return _settings_page(PasswordForm(prefix="codes"), form, refused)
    two_factor.turn_off(user)
    record(user.id, "two_factor_disabled")
    db.session.commit()
    current_app.logger.info(
        "two-factor log-in turned off", extra={"event": "two_factor_disabled", "user_id": user.id}
    )
    _tell_the_owner(user, "Two-factor log-in was turned off", "turned off")
    flash("Two-factor log-in is off. Log-ins now need only your password.", "info")
    return redirect(url_for("two_factor_views.settings"))


def _refused(form: PasswordForm, user: User) -> int | None:
    """The status that refuses FORM (invalid, or not the current password),
    or None to go on."""
    if not form.validate():
        return 400
    if verify_password(user.password_hash, form.current.data):
        return None
    current_app.logger.warning(
        "two-factor change refused: wrong current password",
        extra={"event": "two_factor_change_failed", "user_id": user.id},
    )
    record(user.id, "two_factor_change_failed")
    db.session.commit()
    form.current.errors.append("This is not your current password.")
    return 401


def _tell_the_owner(user: User, subject: str, change: str) -> None:
    send_mail(
        user.email,
        subject,
        "two_factor_changed",
        change=change,
        settings_link=url_for("two_factor_views.settings", _external=True),
        reset_link=url_for("password_reset.request_link", _external=True),
    )
