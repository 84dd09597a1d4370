"""What the account page does for an account of the identity provider: log
out everywhere, and delete the app's record of the account once the
provider has had the person log in again.

Deleting asks the provider for a new log-in, with prompt=login and max_age=0
(OpenID Connect Core, section 3.1.2.1), through a link on a page of its own:
a link, not a redirect from the form, so the Content-Security-Policy's
form-action (the issuer's origin) holds even when the provider's log-in
pages are elsewhere. The record goes only when the ID token that comes back
is for the same provider account and its auth_time says the person logged
in again: later than the log-in that opened this session (when the provider
said when that was) and not before the deletion was asked for (less a minute
for clock differences). So a session left open or stolen cannot delete the
account, and a provider that ignores prompt and max_age (and answers with
the earlier log-in) deletes nothing. The account at the provider is not
touched.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user, login_required, logout_user

from .extensions import db, limiter
from .models import User, new_auth_key
from .oidc import (
    LOGIN_AUTH_TIME_KEY,
    LOGOUT_HINT_KEY,
    PROVIDER_UNUSABLE,
    authorization_url,
    login_rate_limit,
    provider_logout_url,
    provider_unusable,
)
from .security_events import record
from .sessions import end_session

bp = Blueprint("account_actions", __name__, url_prefix="/account")

# The deletion waiting for the provider's answer, kept in the session.
PENDING_DELETION_KEY = "account_pending_deletion"
# How long the round trip to the provider may take.
REAUTHENTICATION_SECONDS = 600
# The provider's clock and the app's differ a little.
CLOCK_LEEWAY_SECONDS = 60


@bp.post("/sessions/end")
@login_required
def end_all_sessions():
    """Every session of the account ends, this one too (a new auth_key), and
    this browser's session at the provider as at log-out."""
    user_id = current_user.id
    provider_logout = provider_logout_url(session.get(LOGOUT_HINT_KEY))
    current_user.auth_key = new_auth_key()
    record(user_id, "sessions_ended")
    db.session.commit()
    logout_user()
    end_session()
    current_app.logger.info(
        "every session ended",
        extra={"event": "sessions_ended", "user_id": user_id, "at_provider": bool(provider_logout)},
    )
    flash("Every session of your account has ended, on every device, this one too.", "info")
    return redirect(provider_logout or url_for("main.index"))


@bp.post("/delete")
@login_required
@limiter.limit(login_rate_limit)
def delete_account():
    """A page with the link to a new log-in at the provider; the callback
    (auth.py) then deletes the record with finish_deletion."""
    try:
        provider_url = authorization_url(nonce=secrets.token_urlsafe(32), prompt="login", max_age=0)
    except PROVIDER_UNUSABLE as error:
        return provider_unusable(error)
    session[PENDING_DELETION_KEY] = {"user_id": current_user.id, "asked_at": int(time.time())}
    return render_template("account/reauthenticate.html", provider_url=provider_url)


def finish_deletion(pending: Any, claims: dict):
    """Delete the signed-in account's record if CLAIMS (the validated ID
    token of the round trip PENDING began) show a new log-in to it."""
    user = current_user if current_user.is_authenticated else None
    if user is None or not _logged_in_again(pending, claims, user):
        return deletion_refused()
    user_id = user.id
    db.session.delete(db.session.get(User, user_id))
    db.session.commit()
    logout_user()
    end_session()
    current_app.logger.info(
        "account deleted", extra={"event": "account_deleted", "user_id": user_id}
    )
    flash(
        "Your account here has been deleted. Your account at the sign-in service is unchanged.",
        "info",
    )
    return redirect(url_for("main.index"))


def deletion_refused():
    """Nothing is deleted: the provider answered without a new log-in to the
    signed-in account, or refused, or the person cancelled there."""
    user = current_user if current_user.is_authenticated else None
    if user is not None:
        record(user.id, "account_deletion_failed")
        db.session.commit()
    current_app.logger.warning(
        "account deletion refused: no new log-in at the provider",
        extra={"event": "account_deletion_failed", "user_id": user.id if user else None},
    )
    flash(
        "The sign-in service did not confirm a new log-in to your account, so nothing was deleted.",
        "error",
    )
    return redirect(url_for("main.account" if user else "main.index"))


def _logged_in_again(pending: Any, claims: dict, user: User) -> bool:
    if not isinstance(pending, dict) or pending.get("user_id") != user.id:
        return False
    asked_at = pending.get("asked_at")
    now = time.time()
    if not isinstance(asked_at, int) or now - asked_at > REAUTHENTICATION_SECONDS:
        return False
    if (claims.get("iss"), str(claims.get("sub"))) != (user.issuer, user.subject):
        return False
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int):
        return False
    if not asked_at - CLOCK_LEEWAY_SECONDS <= auth_time <= now + CLOCK_LEEWAY_SECONDS:
        return False
    # The same log-in as the one that opened this session is not a new one.
    opened_at = session.get(LOGIN_AUTH_TIME_KEY)
    return not isinstance(opened_at, int) or auth_time > opened_at
