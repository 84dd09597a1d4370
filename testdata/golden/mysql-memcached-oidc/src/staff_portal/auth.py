"""Log-in through an OpenID Connect provider, and log-out.

Authlib runs the authorization code flow with PKCE (S256), keeps state,
nonce and code verifier in the session, and validates the ID token against
the provider's published keys: signature, issuer, audience, expiry and nonce.
This module adds what Authlib leaves to the application: one pinned signing
algorithm, an ID token that must be present, the local user record, and
log-out at the provider (RP-initiated log-out) when it offers one.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
from datetime import UTC, datetime

import requests
from authlib.common.errors import AuthlibBaseError
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
from flask_login import current_user, login_user, logout_user
from joserfc.errors import JoseError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .account_actions import PENDING_DELETION_KEY, deletion_refused, finish_deletion
from .extensions import db, limiter, login_manager
from .models import User
from .oidc import (
    LOGIN_AUTH_TIME_KEY,
    LOGOUT_HINT_KEY,
    login_rate_limit,
    provider_logout_url,
    to_provider,
)
from .oidc_roles import LOGIN_MFA_KEY, multi_factor, parse_role_map, role_from
from .roles import USER
from .security_events import record
from .sessions import end_session, renew_session, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Where to go after log-in, kept in the session across the provider round trip.
NEXT_KEY = "auth_next"
ACCOUNT_DISABLED = "This account is disabled. Ask the site's operators why."


class LoginRefusedError(Exception):
    """The provider's answer is not acceptable; the reason is logged, not shown."""


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


def _id_token_algorithm(id_token: str) -> str | None:
    try:
        header = id_token.split(".", 1)[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (ValueError, binascii.Error):
        return None
    return decoded.get("alg") if isinstance(decoded, dict) else None


def _verified_claims() -> tuple[dict, str]:
    """Finish the code flow; return the validated ID token claims and the token."""
    issuer = current_app.config["OIDC_ISSUER"]
    try:
        token = current_app.extensions["oidc"].authorize_access_token(
            # The issuer we were configured with, not whatever discovery says.
            claims_options={"iss": {"essential": True, "value": issuer}},
            leeway=60,
        )
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError) as error:
        raise LoginRefusedError(type(error).__name__) from error
    id_token = token.get("id_token")
    claims = token.get("userinfo")
    # Authlib validates an ID token only when one is present; require it.
    if not id_token or not claims:
        raise LoginRefusedError("no ID token in the token response")
    if _id_token_algorithm(id_token) != current_app.config["OIDC_ID_TOKEN_ALG"]:
        raise LoginRefusedError("ID token signed with an unexpected algorithm")
    return dict(claims), id_token


def _local_user(claims: dict) -> User:
    """Create or update the user record for this provider account, and
    record the log-in."""
    issuer, subject = claims["iss"], str(claims["sub"])
    query = select(User).where(User.issuer == issuer, User.subject == subject)
    user = db.session.scalar(query)
    if user is not None and user.disabled_at is not None:
        # Refused by the caller: nothing changes, and no log-in is recorded.
        return user
    if user is None:
        user = User(issuer=issuer, subject=subject)
        db.session.add(user)
    # Only an address the provider has verified is worth keeping.
    email = claims.get("email") if claims.get("email_verified") is True else None
    user.email = email[:254] if isinstance(email, str) and email else None
    name = claims.get("name")
    user.name = name[:200] if isinstance(name, str) and name else None
    # The provider decides the role afresh at every log-in.
    config = current_app.config
    role = role_from(claims, config["OIDC_ROLES_CLAIM"], parse_role_map(config["OIDC_ROLES"]))
    # A new account starts as a user: being made more at once is a change too.
    previous = user.role if user.id is not None else USER
    role_changed = role != previous
    if role_changed:
        current_app.logger.info(
            "role changed by the provider's claims",
            extra={"event": "role_changed", "user_id": user.id, "old": previous, "new": role},
        )
        # Sessions opened with the old role end; this log-in opens one with the new.
        user.end_all_sessions()
    user.role = role
    user.last_login_at = datetime.now(UTC)
    try:
        db.session.flush()
        # The log-in is recorded in the transaction that records the account.
        if role_changed:
            record(user.id, "role_changed")
        record(user.id, "login")
        db.session.commit()
    except IntegrityError:
        # Another request created the same account a moment ago.
        db.session.rollback()
        user = db.session.scalar(query)
        if user is None:
            raise
        record(user.id, "login")
        db.session.commit()
    return user


@bp.get("/login")
@limiter.limit(login_rate_limit)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    # 256 bits; Authlib's own nonce has about 119.
    return to_provider(nonce=secrets.token_urlsafe(32))


@bp.get("/callback")
@limiter.limit(login_rate_limit)
def callback():
    # A deletion waiting for the provider's confirmation (account_actions.py)
    # is answered by this round trip, whatever its outcome.
    pending_deletion = session.pop(PENDING_DELETION_KEY, None)
    try:
        claims, id_token = _verified_claims()
    except LoginRefusedError as refused:
        current_app.logger.warning(
            "log-in failed", extra={"event": "login_failed", "reason": str(refused)}
        )
        if pending_deletion is not None and current_user.is_authenticated:
            # Cancelled or refused at the provider: the account stays, signed in.
            return deletion_refused()
        flash("Log-in failed. Please try again.", "error")
        return render_template("auth/failed.html"), 401
    if pending_deletion is not None:
        return finish_deletion(pending_deletion, claims)
    user = _local_user(claims)
    if user.disabled_at is not None:
        session.pop(NEXT_KEY, None)
        current_app.logger.warning(
            "log-in refused: account disabled",
            extra={"event": "login_disabled", "user_id": user.id},
        )
        flash(ACCOUNT_DISABLED, "error")
        return render_template("auth/failed.html"), 403
    next_url = session.get(NEXT_KEY)
    renew_session()
    session[LOGOUT_HINT_KEY] = id_token
    session[LOGIN_MFA_KEY] = multi_factor(claims, current_app.config["OIDC_MFA_AMR"])
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, int) and not isinstance(auth_time, bool):
        session[LOGIN_AUTH_TIME_KEY] = auth_time
    login_user(user)
    current_app.logger.info("log-in", extra={"event": "login", "user_id": user.id})
    return redirect(next_url or url_for("main.account"))


@bp.post("/logout")
def logout():
    # The id only: get_id() carries the account's auth_key, which stays out of logs.
    user_id = current_user.id if current_user.is_authenticated else None
    provider_logout = provider_logout_url(session.get(LOGOUT_HINT_KEY))
    logout_user()
    end_session()
    if user_id is not None:
        current_app.logger.info(
            "log-out",
            extra={"event": "logout", "user_id": user_id, "at_provider": bool(provider_logout)},
        )
    return redirect(provider_logout or url_for("main.index"))
