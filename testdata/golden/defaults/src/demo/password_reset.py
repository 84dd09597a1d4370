"""Password reset by a mailed link.

The request form answers the same for every address, known or not, and the
mail leaves after the response (mail.py), so neither the page nor its timing
tells whether an account exists. Requests are limited per client address
(LOGIN_RATE_LIMIT) and per account (RESET_MAIL_RATE_LIMIT: past it, no more
mail, and still the same answer).

A link carries the account id and a fingerprint of the account's password
hash and email, signed with SECRET_KEY (HMAC-SHA256) and stamped with its
time: it expires after PASSWORD_RESET_MINUTES, and any change of password
(this reset included) or email voids every link sent before. It travels in
the query string, which the access logs leave out.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from itsdangerous import BadData
from limits import parse
from sqlalchemy import select, update
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from .auth import MAX_PASSWORD_LENGTH, login_rate_limit, long_enough, normalize_email
from .extensions import db, limiter
from .mail import send_mail
from .models import User, new_auth_key
from .passwords import hash_password
from .security import Sha256TimedSerializer

bp = Blueprint("password_reset", __name__, url_prefix="/auth/reset")

SALT = "password-reset"


class ResetRequestForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])


class NewPasswordForm(FlaskForm):
    token = HiddenField(validators=[DataRequired(), Length(max=512)])
    password = PasswordField(
        "New password", validators=[DataRequired(), long_enough, Length(max=MAX_PASSWORD_LENGTH)]
    )
    confirm = PasswordField(
        "Repeat new password",
        validators=[DataRequired(), EqualTo("password", message="The passwords differ.")],
    )


def _serializer() -> Sha256TimedSerializer:
    config = current_app.config
    # Signed with SECRET_KEY; links made under a previous key still open
    # while it is listed in SECRET_KEY_FALLBACKS (the last key signs).
    return Sha256TimedSerializer([*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"]], salt=SALT)


def fingerprint(user: User) -> str:
    """Changes whenever the password hash or the email does."""
    material = f"{user.password_hash}\0{user.email}".encode()
    return hashlib.sha256(material).hexdigest()[:32]


def make_token(user: User) -> str:
    return _serializer().dumps([user.id, fingerprint(user)])


def account_for(token: str) -> User | None:
    """The account a link is for, if it is genuine, recent and still current."""
    max_age = current_app.config["PASSWORD_RESET_MINUTES"] * 60
    try:
        user_id, mark = _serializer().loads(token, max_age=max_age)
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or not isinstance(mark, str):
        return None
    user = db.session.get(User, user_id)
    if user is None or fingerprint(user) != mark:
        return None
    return user


def _mail_allowed(email: str) -> bool:
    """One hit on this account's reset-mail limit; False once it is spent.
    The key is a digest, so the counters' store holds no address."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return True
    key = hashlib.sha256(email.encode()).hexdigest()
    limit = parse(config["RESET_MAIL_RATE_LIMIT"])
    return limiter.limiter.hit(limit, config["RATELIMIT_KEY_PREFIX"], "reset-mail", key)


@bp.route("", methods=["GET", "POST"])
@limiter.limit(login_rate_limit, methods=["POST"])
def request_link():
    form = ResetRequestForm()
    if form.validate_on_submit():
        email = normalize_email(form.email.data)
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None and _mail_allowed(user.email):
            send_mail(
                user.email,
                "Reset your password",
                "password_reset",
                link=url_for("password_reset.choose", token=make_token(user), _external=True),
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
    form = NewPasswordForm()
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
    user = account_for(form.token.data or "")
    if user is None:
        return render_template("auth/reset_invalid.html"), 400
    if not form.validate_on_submit():
        return render_template("auth/reset_new.html", form=form), 400 if form.errors else 200

    old_hash, new_hash = user.password_hash, hash_password(form.password.data)
    # Conditional on the hash the link was checked against: of two uses of
    # one link at once, exactly one changes the password.
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == old_hash)
        .values(password_hash=new_hash, auth_key=new_auth_key())
    ).rowcount
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
    return redirect(url_for("auth.login"))
