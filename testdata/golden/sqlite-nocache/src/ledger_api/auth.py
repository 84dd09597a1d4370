"""Registration, log-in and log-out.

Registration answers the same for a new address and a taken one, with the
same work (a password hash) either way: a new address gets a confirmation
link, a taken one a notice that someone tried to register with it. An
account logs in once its address is confirmed (address_confirmation.py).
"""

from __future__ import annotations

import hmac

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from . import login_throttle, two_factor
from .account_links import mail_allowed, make_token
from .addresses import normalize_email
from .extensions import db, limiter, login_manager
from .mail import send_mail
from .models import User
from .password_policy import MAX_PASSWORD_LENGTH, password_problem
from .passwords import hash_password, needs_rehash, spend_verification_time, verify_password
from .security_events import record, record_unsolicited
from .sessions import end_session, renew_session, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

# The one answer to a refused log-in, whatever the reason.
LOGIN_FAILED = (
    "Invalid email or password, or an address not confirmed yet "
    "(if so, we have mailed you the link again)."
)


# The answer while an address is locked for browsers it has not been used in
# (login_throttle.py): the same for every address, with an account or not.
LOGIN_HELD = (
    "Too many log-in attempts on this address from browsers it has not been used in, so these "
    "are held back for a while. Log in from a browser you have used before, or try again "
    "later. If the address has an account, we have mailed it a link that lets a browser log in."
)


ACCOUNT_DISABLED = "This account is disabled. Ask the site's operators why."


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def acceptable_password(form: FlaskForm, field: PasswordField) -> None:
    """The password policy (password_policy.py), checked against the address
    typed on the form or the account's (account_email, set by the view)."""
    email = form.email.data if "email" in form else getattr(form, "account_email", "")
    problem = password_problem(field.data or "", email=email or "")
    if problem:
        raise ValidationError(problem)


class RegisterForm(FlaskForm):
    email = EmailField(
        "Email",
        validators=[DataRequired(), Length(max=254), Email(check_deliverability=False)],
    )
    password = PasswordField("Password", validators=[DataRequired(), acceptable_password])
    confirm = PasswordField(
        "Repeat password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class NewPasswordForm(FlaskForm):
    """A new password, typed twice (reset and change build on it). The view
    sets account_email, which the password may not be built on."""

    account_email = ""
    password = PasswordField("New password", validators=[DataRequired(), acceptable_password])
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


class AddressForm(FlaskForm):
    """Just an address: where to send a reset or confirmation link."""

    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )


@login_manager.user_loader
def load_user(session_user_id: str) -> User | None:
    """The account of a session's user id (User.get_id): the id finds the
    account and its auth_key must match, so a session outlives neither the
    account nor a change of its key."""
    user_id, _, auth_key = session_user_id.partition(":")
    if not user_id.isdigit() or not auth_key:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(user.auth_key, auth_key):
        return None
    if user.disabled_at is not None:
        return None
    return user


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        # Hashed and counted for every address, new or taken: the same work either way.
        password_hash = hash_password(form.password.data)
        allowed = mail_allowed(email)
        user = User(email=email, password_hash=password_hash)
        db.session.add(user)
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            _tell_the_owner(email, allowed)
        else:
            current_app.logger.info(
                "account registered; confirmation link sent",
                extra={"event": "register", "user_id": user.id},
            )
            if allowed:
                send_confirmation(user)
        return render_template("auth/register_sent.html", email=email)
    return render_template("auth/register.html", form=form), 400 if form.errors else 200


def send_confirmation(user: User) -> None:
    send_mail(
        user.email,
        "Confirm your email address",
        "confirm_address",
        link=url_for(
            "address_confirmation.confirm",
            token=make_token("address-confirmation", user),
            _external=True,
        ),
        hours=current_app.config["EMAIL_VERIFICATION_HOURS"],
    )


def _tell_the_owner(email: str, allowed: bool) -> None:
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
            login_link=url_for("auth.login", _external=True),
            reset_link=url_for("password_reset.request_link", _external=True),
        )


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    form = LoginForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        user = db.session.scalar(select(User).where(User.email == email))
        device = request.cookies.get(login_throttle.DEVICE_COOKIE, "")
        if login_throttle.attempt(email, user, device).held_back:
            # No password is checked: guessing stops here, whoever guesses.
            flash(LOGIN_HELD, "error")
            return render_template("auth/login.html", form=form), 429
        if user is None:
            spend_verification_time(form.password.data)
            current_app.logger.warning("log-in failed", extra={"event": "login_failed"})
        elif not verify_password(user.password_hash, form.password.data):
            current_app.logger.warning(
                "log-in failed", extra={"event": "login_failed", "user_id": user.id}
            )
            record_unsolicited(user.id, "login_failed")
        elif user.email_verified_at is None:
            # Refused like a wrong password: whoever registered a free address
            # with a password of their choosing must not learn here that it
            # was free. Its owner gets the confirmation link again.
            current_app.logger.info(
                "log-in refused: address not confirmed",
                extra={"event": "login_unconfirmed", "user_id": user.id},
            )
            if mail_allowed(user.email):
                send_confirmation(user)
        elif user.disabled_at is not None:
            # Said only to whoever knows the password: it tells nobody else anything.
            current_app.logger.info(
                "log-in refused: account disabled",
                extra={"event": "login_disabled", "user_id": user.id},
            )
            flash(ACCOUNT_DISABLED, "error")
            return render_template("auth/login.html", form=form), 403
        else:
            if needs_rehash(user.password_hash):
                user.password_hash = hash_password(form.password.data)
            next_url = safe_next(request.args.get("next"))
            if user.two_factor_enabled:
                db.session.commit()
                current_app.logger.info(
                    "password accepted; second factor asked",
                    extra={"event": "login_password_ok", "user_id": user.id},
                )
                two_factor.start_pending_login(user, next_url)
                return redirect(url_for("two_factor_views.login_code"))
            return complete_login(user, next_url)
        flash(LOGIN_FAILED, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


def complete_login(user: User, next_url: str | None) -> Response:
    """Sign USER in, in a fresh session, once every factor is checked: the
    password, and the second factor if the account has one."""
    sign_in(user, "login")
    response = redirect(next_url or url_for("main.account"))
    # Only now: a browser that knows the password but not the code is no device of the owner's.
    return login_throttle.remember_device(response, user, full_log_in=True)


def sign_in(user: User, event: str) -> None:
    """Start USER's session, fresh, recorded as EVENT (login, or
    passkey_login); the caller remembers the browser as the account's."""
    record(user.id, event)
    db.session.commit()
    renew_session()
    login_user(user)
    current_app.logger.info("log-in", extra={"event": event, "user_id": user.id})


@bp.post("/logout")
def logout():
    # The id only: get_id() carries the account's auth_key, which stays out of logs.
    user_id = current_user.id if current_user.is_authenticated else None
    logout_user()
    end_session()
    if user_id is not None:
        current_app.logger.info("log-out", extra={"event": "logout", "user_id": user_id})
    return redirect(url_for("main.index"))
