"""The JSON API under /api/v1: accounts, tokens and the caller's profile.

Bearer tokens, not cookies, authenticate these routes. A page on another
site cannot make a browser attach them, so CSRF tokens do not apply: this
blueprint, and only this one, is exempt from CSRF protection. Every write
must also be JSON, which a plain HTML form cannot send.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask import Blueprint, abort, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .addresses import normalize_email
from .extensions import csrf, db, limiter
from .models import User
from .password_policy import MAX_PASSWORD_LENGTH, password_problem
from .passwords import hash_password, needs_rehash, spend_verification_time, verify_password
from .tokens import (
    RejectedTokenError,
    create_access_token,
    issue_refresh_token,
    revoke_refresh_token,
    rotate_refresh_token,
    verify_access_token,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.before_request
def require_json_bodies():
    if request.method in {"POST", "PUT", "PATCH", "DELETE"} and not request.is_json:
        abort(415)


def _json_body() -> object:
    """The parsed JSON body, or None when it is not JSON. Flask's silent
    parsing swallows ValueError (bad syntax, invalid UTF-8) but not the
    RecursionError of deeply nested arrays, which must be a 400 too."""
    try:
        return request.get_json(silent=True)
    except RecursionError:
        return None


def _fields(*names: str) -> dict[str, str]:
    """The named string fields of the JSON body, or 400."""
    body = _json_body()
    if not isinstance(body, dict):
        abort(400)
    values = {name: body.get(name) for name in names}
    if not all(isinstance(value, str) and value for value in values.values()):
        abort(400)
    return values


def _unauthorized(error: str = "invalid_token"):
    response = jsonify(error="You need to sign in.")
    response.status_code = 401
    # RFC 6750: tell the client which scheme, and that its token is the problem.
    response.headers["WWW-Authenticate"] = f'Bearer realm="api", error="{error}"'
    return response


def _token_response(user: User, refresh_token: str):
    access_token, expires_in = create_access_token(user)
    return jsonify(
        access_token=access_token,
        # The token type of RFC 6750, not a password.
        token_type="Bearer",  # noqa: S106  # nosec B106
        expires_in=expires_in,
        refresh_token=refresh_token,
    )


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let the request through only with a valid bearer access token; the
    user is then in ``g.user``."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return _unauthorized("invalid_request")
        try:
            g.user = verify_access_token(token.strip())
        except RejectedTokenError as refused:
            current_app.logger.warning(
                "access token refused", extra={"event": "token_refused", "reason": str(refused)}
            )
            return _unauthorized()
        return view(*args, **kwargs)

    return wrapper


@bp.post("/auth/register")
@limiter.limit(login_rate_limit)
def register():
    fields = _fields("email", "password")
    try:
        email = validate_email(fields["email"], check_deliverability=False).normalized
    except EmailNotValidError:
        return jsonify(error="Enter a valid email address."), 400
    password = fields["password"]
    problem = password_problem(password, email=email)
    if problem:
        return jsonify(error=problem), 400
    user = User(email=normalize_email(email), password_hash=hash_password(password))
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return jsonify(error="An account with this email cannot be created."), 400
    current_app.logger.info("account registered", extra={"event": "register", "user_id": user.id})
    return jsonify(id=user.id, email=user.email), 201


@bp.post("/auth/token")
@limiter.limit(login_rate_limit)
def token():
    fields = _fields("email", "password")
    # Bounded hashing work: no stored password is longer, so the cut never matches.
    password = fields["password"][: MAX_PASSWORD_LENGTH + 1]
    user = db.session.scalar(select(User).where(User.email == normalize_email(fields["email"])))
    if user is None:
        spend_verification_time(password)
    elif verify_password(user.password_hash, password):
        if needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        refresh_token = issue_refresh_token(user)
        db.session.commit()
        current_app.logger.info("log-in", extra={"event": "login", "user_id": user.id})
        return _token_response(user, refresh_token)
    current_app.logger.warning("log-in failed", extra={"event": "login_failed"})
    return _unauthorized("invalid_grant")


@bp.post("/auth/refresh")
@limiter.limit(login_rate_limit)
def refresh():
    presented = _fields("refresh_token")["refresh_token"]
    try:
        user, following = rotate_refresh_token(presented)
    except RejectedTokenError as refused:
        current_app.logger.warning(
            "refresh refused", extra={"event": "refresh_refused", "reason": str(refused)}
        )
        return _unauthorized("invalid_grant")
    current_app.logger.info("tokens refreshed", extra={"event": "refresh", "user_id": user.id})
    return _token_response(user, following)


@bp.post("/auth/revoke")
@limiter.limit(login_rate_limit)
def revoke():
    revoke_refresh_token(_fields("refresh_token")["refresh_token"])
    current_app.logger.info("refresh token revoked", extra={"event": "logout"})
    # The same answer whether or not the token existed (RFC 7009).
    return "", 204


@bp.get("/me")
@token_required
def me():
    return jsonify(id=g.user.id, email=g.user.email)
