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
from urllib.parse import urlencode

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

from .extensions import db, limiter, login_manager
from .models import User
from .oidc import ProviderMetadataError
from .sessions import end_session, renew_session, safe_next

bp = Blueprint("auth", __name__, url_prefix="/auth")

# Where to go after log-in, kept in the session across the provider round trip.
NEXT_KEY = "auth_next"
# The ID token of this log-in: the provider's log-out page wants it as a hint.
LOGOUT_HINT_KEY = "auth_logout_hint"


class LoginRefusedError(Exception):
    """The provider's answer is not acceptable; the reason is logged, not shown."""


def login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


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
    """Create or update the user record for this provider account."""
    issuer, subject = claims["iss"], str(claims["sub"])
    query = select(User).where(User.issuer == issuer, User.subject == subject)
    user = db.session.scalar(query)
    if user is None:
        user = User(issuer=issuer, subject=subject)
        db.session.add(user)
    # Only an address the provider has verified is worth keeping.
    email = claims.get("email") if claims.get("email_verified") is True else None
    user.email = email[:254] if isinstance(email, str) and email else None
    name = claims.get("name")
    user.name = name[:200] if isinstance(name, str) and name else None
    user.last_login_at = datetime.now(UTC)
    try:
        db.session.commit()
    except IntegrityError:
        # Another request created the same account a moment ago.
        db.session.rollback()
        user = db.session.scalar(query)
        if user is None:
            raise
    return user


@bp.get("/login")
@limiter.limit(login_rate_limit)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.account"))
    session[NEXT_KEY] = safe_next(request.args.get("next"))
    try:
        return current_app.extensions["oidc"].authorize_redirect(
            url_for("auth.callback", _external=True),
            # 256 bits; Authlib's own nonce has about 119.
            nonce=secrets.token_urlsafe(32),
        )
    except ProviderMetadataError as error:
        current_app.logger.error(
            "identity provider refused: %s",
            error,
            extra={"event": "login_provider_misconfigured"},
        )
        flash("The sign-in service is misconfigured. Please try again later.", "error")
        return render_template("auth/failed.html"), 503
    except (requests.RequestException, ValueError) as error:
        # Discovery failed: the provider is down or OIDC_ISSUER points nowhere.
        current_app.logger.warning(
            "identity provider unreachable",
            extra={"event": "login_provider_unreachable", "reason": type(error).__name__},
        )
        flash("The sign-in service cannot be reached. Please try again later.", "error")
        return render_template("auth/failed.html"), 503


@bp.get("/callback")
@limiter.limit(login_rate_limit)
def callback():
    try:
        claims, id_token = _verified_claims()
    except LoginRefusedError as refused:
        current_app.logger.warning(
            "log-in failed", extra={"event": "login_failed", "reason": str(refused)}
        )
        flash("Log-in failed. Please try again.", "error")
        return render_template("auth/failed.html"), 401
    user = _local_user(claims)
    next_url = session.get(NEXT_KEY)
    renew_session()
    session[LOGOUT_HINT_KEY] = id_token
    login_user(user)
    current_app.logger.info("log-in", extra={"event": "login", "user_id": user.id})
    return redirect(next_url or url_for("main.account"))


def _provider_logout_url(id_token: str | None) -> str | None:
    """The provider's end_session_endpoint, when its discovery document names
    one, with the hint and the way back; None when there is none to use.
    Without it the provider's session lives on, and the next "Log in" signs the
    same person straight back in."""
    if not id_token:
        return None
    try:
        metadata = current_app.extensions["oidc"].load_server_metadata()
    except (requests.RequestException, ValueError) as error:
        current_app.logger.warning(
            "provider log-out skipped",
            extra={"event": "logout_provider_unreachable", "reason": type(error).__name__},
        )
        return None
    endpoint = metadata.get("end_session_endpoint")
    # Only on the issuer's own scheme: an https issuer never sends the token over http.
    scheme = current_app.config["OIDC_ISSUER"].split("://", 1)[0] + "://"
    if not isinstance(endpoint, str) or not endpoint.startswith(scheme):
        return None
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": current_app.config["OIDC_CLIENT_ID"],
            "post_logout_redirect_uri": url_for("main.index", _external=True),
        }
    )
    return endpoint + ("&" if "?" in endpoint else "?") + query


@bp.post("/logout")
def logout():
    # The id only: get_id() carries the account's auth_key, which stays out of logs.
    user_id = current_user.id if current_user.is_authenticated else None
    provider_logout = _provider_logout_url(session.get(LOGOUT_HINT_KEY))
    logout_user()
    end_session()
    if user_id is not None:
        current_app.logger.info(
            "log-out",
            extra={"event": "logout", "user_id": user_id, "at_provider": bool(provider_logout)},
        )
    return redirect(provider_logout or url_for("main.index"))
