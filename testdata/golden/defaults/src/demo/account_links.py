"""Links mailed to an account's address: password reset, address
confirmation, the confirmation of a new address (which the link carries),
and the recognition of a browser while log-ins are held back.

A link carries the account id and a fingerprint of what the link is about,
signed with SECRET_KEY (HMAC-SHA256, a salt per purpose) and stamped with its
time. It opens nothing once it is older than its lifetime, or once the
fingerprint changed: a reset link dies with any change of the password or
the email, a new address's link also once the account's sessions are ended
(any address change does that), a confirmation link once the address is
confirmed or changed. It
travels in the query string, which the access logs leave out.

Mail to one address is limited whoever asks (ACCOUNT_MAIL_RATE_LIMIT): past
the limit no more mail goes out, and the pages answer as before.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from flask import current_app, request
from flask_wtf import FlaskForm
from itsdangerous import BadData
from limits import parse_many
from wtforms import HiddenField
from wtforms.validators import DataRequired, Length

from .extensions import db, limiter
from .models import User
from .security import Sha256TimedSerializer


def _reset_mark(user: User) -> str:
    return f"{user.password_hash}\0{user.email}"


def _change_mark(user: User) -> str:
    # The auth_key too: it changes with every change of the address, so a
    # link dies even if the address later returns to what it was.
    return f"{user.password_hash}\0{user.email}\0{user.auth_key}"


def _confirmation_mark(user: User) -> str:
    return f"{user.email}\0{user.email_verified_at is not None}"


# purpose: (what the fingerprint covers, the setting that gives the lifetime in minutes)
PURPOSES: dict[str, tuple[Callable[[User], str], Callable[[], int]]] = {
    "password-reset": (_reset_mark, lambda: current_app.config["PASSWORD_RESET_MINUTES"]),
    "address-confirmation": (
        _confirmation_mark,
        lambda: current_app.config["EMAIL_VERIFICATION_HOURS"] * 60,
    ),
    "address-change": (_change_mark, lambda: current_app.config["EMAIL_VERIFICATION_HOURS"] * 60),
    # Dies with any change of the password, the address or the log-ins.
    "browser-recognition": (_change_mark, lambda: current_app.config["PASSWORD_RESET_MINUTES"]),
}


def _serializer(purpose: str) -> Sha256TimedSerializer:
    config = current_app.config
    # Links made under a previous key still open while it is listed in
    # SECRET_KEY_FALLBACKS (the last key signs).
    keys = [*config["SECRET_KEY_FALLBACKS"], config["SECRET_KEY"]]
    return Sha256TimedSerializer(keys, salt=purpose)


def fingerprint(purpose: str, user: User) -> str:
    mark, _ = PURPOSES[purpose]
    return hashlib.sha256(mark(user).encode()).hexdigest()[:32]


def make_token(purpose: str, user: User, *details: str) -> str:
    """A signed link token; ``details`` ride along signed (a new address)."""
    return _serializer(purpose).dumps([user.id, fingerprint(purpose, user), *details])


def account_for(purpose: str, token: str) -> User | None:
    """The account a link is for, if it is genuine, recent and still current."""
    found = account_and_details(purpose, token)
    return found[0] if found is not None and not found[1] else None


def account_and_details(purpose: str, token: str) -> tuple[User, list[str]] | None:
    """The account a link is for and the details it carries, if it is
    genuine, recent and still current."""
    _, minutes = PURPOSES[purpose]
    try:
        user_id, mark, *details = _serializer(purpose).loads(token, max_age=minutes() * 60)
    except (BadData, TypeError, ValueError):
        return None
    if not isinstance(user_id, int) or not isinstance(mark, str):
        return None
    if not all(isinstance(detail, str) for detail in details):
        return None
    user = db.session.get(User, user_id)
    if user is None or not hmac.compare_digest(fingerprint(purpose, user), mark):
        return None
    return user, details


class LinkForm(FlaskForm):
    """The form on a page a mailed link opens: the link's token rides along."""

    token = HiddenField(validators=[DataRequired(), Length(max=512)])


def link_token(form: LinkForm) -> str:
    """The token of the link that opened the page (GET), put in the form to
    ride along, or the one the form brings back (POST)."""
    if request.method == "GET":
        form.token.data = request.args.get("token", "")
    return form.token.data or ""


def linked_account(purpose: str, form: LinkForm) -> User | None:
    """The account of the link behind the page (link_token), if it still works."""
    return account_for(purpose, link_token(form))


def mail_allowed(email: str, bucket: str = "account-mail") -> bool:
    """One hit on this address's mail limits (ACCOUNT_MAIL_RATE_LIMIT) in
    BUCKET; False once one is spent. Mail no stranger can ask for at will has
    a bucket of its own. The key is a digest: the counters' store holds no
    address."""
    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return True
    key = hashlib.sha256(email.encode()).hexdigest()
    hits = [
        limiter.limiter.hit(limit, config["RATELIMIT_KEY_PREFIX"], bucket, key)
        for limit in parse_many(config["ACCOUNT_MAIL_RATE_LIMIT"])
    ]
    return all(hits)
