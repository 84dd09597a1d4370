"""Access tokens: short-lived JWTs signed with HS256 and JWT_SECRET_KEY,
naming that key in their header (``kid``). Keys listed in
JWT_SECRET_KEY_FALLBACKS still verify the tokens they signed, so the key can
be rotated without signing anyone out: put the old key there, set a new one,
and drop the old one once JWT_ACCESS_MINUTES have passed.
Refresh tokens: random, stored only as a digest, rotated at every use; each
lives JWT_REFRESH_DAYS unused, and every token of one log-in (a family) ends
JWT_SESSION_DAYS after it.

The verifier accepts exactly one algorithm, so a token that names another
one ("none", or RS256 to confuse the key type) is refused before any
signature check, and only a key it knows by the token's ``kid``. Issuer,
audience, expiry, subject and the user's auth_key are required claims.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import jwt
from flask import current_app
from sqlalchemy import select, update

from .about import PROJECT_NAME
from .extensions import db
from .models import RefreshToken, User
from .stored_times import as_utc

ALGORITHM = "HS256"
ISSUER = PROJECT_NAME
AUDIENCE = f"{PROJECT_NAME}-api"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti", "auth_key", "scope"]

# What a token may be used for, asked for at log-in (the "scope" field, space
# separated; all of them when it is left out). Add yours here; each view
# names the one it needs (api.token_required).
SCOPES = {
    "account": "read the account and its security events, change or delete it",
    "notes:read": "list and read the account's notes",
    "notes:write": "write, change and delete the account's notes",
    "admin": "manage other accounts (admins with two-factor log-in only; api_admin.py)",
}
# Scopes granted only to accounts whose role is staff (roles.STAFF); asked
# for by any other account, they are left out of its tokens.
STAFF_SCOPES = frozenset({"admin"})


class Access(NamedTuple):
    """What a valid access token grants: whose account, and for what."""

    user: User
    scopes: frozenset[str]


class UnknownScopeError(ValueError):
    """A scope asked for is not one of SCOPES, or not text; the message says
    which, for the client."""


def requested_scopes(asked: object) -> frozenset[str]:
    """The scopes of a space-separated request (RFC 6749, 3.3): every scope
    when it is missing (None) or names none; UnknownScopeError when it is not
    text or names one that is not in SCOPES."""
    if asked is None:
        return frozenset(SCOPES)
    if not isinstance(asked, str):
        raise UnknownScopeError("The scope must be a space-separated string")
    named = frozenset(asked.split())
    if not named:
        return frozenset(SCOPES)
    unknown = named - SCOPES.keys()
    if unknown:
        raise UnknownScopeError(f"Unknown scope {' '.join(sorted(unknown))}")
    return named


def granted_scopes(user: User, scopes: frozenset[str]) -> frozenset[str]:
    """The SCOPES asked for that USER may hold: staff scopes for staff only."""
    return scopes if user.is_staff else scopes - STAFF_SCOPES


def scope_text(scopes: frozenset[str]) -> str:
    """Scopes as the space-separated, sorted text tokens and answers carry."""
    return " ".join(sorted(scopes))


class RejectedTokenError(Exception):
    """The token is not acceptable; the message says why, for the log only.
    ``expired`` tells a client to refresh rather than to log in again."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


def key_id(key: str) -> str:
    """The ``kid`` naming a signing key: derived from the key, so no setting
    has to be kept in step with it, and one-way, so it tells nothing of it."""
    return hmac.new(key.encode(), b"access token key id", hashlib.sha256).hexdigest()[:16]


def _verifying_key(token: str) -> str:
    """The key the token's header names: the current one or a fallback."""
    try:
        named = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as error:
        raise RejectedTokenError(type(error).__name__) from None
    keys = [current_app.config["JWT_SECRET_KEY"], *current_app.config["JWT_SECRET_KEY_FALLBACKS"]]
    for key in keys:
        # A key id is public: a plain comparison, which any text survives.
        if key_id(key) == named:
            return key
    raise RejectedTokenError("unknown key id")


def create_access_token(user: User, scopes: frozenset[str]) -> tuple[str, int]:
    """Return a signed access token for the user, good for ``scopes``, and
    its lifetime in seconds."""
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=current_app.config["JWT_ACCESS_MINUTES"])
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user.id),
        # Binds the token to this account, not just to its id.
        "auth_key": user.auth_key,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(16),
        "scope": scope_text(scopes),
    }
    key = current_app.config["JWT_SECRET_KEY"]
    token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": key_id(key)})
    return token, int(lifetime.total_seconds())


def _same_key(user: User | None, auth_key: object) -> bool:
    return (
        user is not None
        and isinstance(auth_key, str)
        and hmac.compare_digest(user.auth_key, auth_key)
    )


def verify_access_token(token: str) -> Access:
    """Return the user and scopes of a valid access token, or raise
    RejectedTokenError."""
    key = _verifying_key(token)
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError:
        raise RejectedTokenError("ExpiredSignatureError", expired=True) from None
    except jwt.InvalidTokenError as error:
        raise RejectedTokenError(type(error).__name__) from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isdigit():
        raise RejectedTokenError("malformed subject")
    user = db.session.get(User, int(subject))
    if not _same_key(user, claims["auth_key"]):
        # The account is gone, or its key changed since the token was issued.
        raise RejectedTokenError("no such account")
    if user.disabled_at is not None:
        raise RejectedTokenError("account disabled")
    scope = claims["scope"]
    if not isinstance(scope, str):
        raise RejectedTokenError("malformed scope")
    # Scopes no longer in SCOPES, or no longer open to the account's role, grant nothing.
    return Access(user, granted_scopes(user, frozenset(scope.split()).intersection(SCOPES)))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_refresh_token(
    user: User,
    scopes: frozenset[str],
    family: str | None = None,
    family_expires_at: datetime | None = None,
) -> str:
    """Add a new refresh token to the session (the caller commits): the first
    of a new family (a log-in), or the next one of ``family``; it gets access
    tokens for ``scopes`` only. A token lives JWT_REFRESH_DAYS unused, and
    never past its family's end, which comes JWT_SESSION_DAYS after the
    log-in however often the family is refreshed."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    if family is None:
        family = secrets.token_hex(16)
        family_expires_at = now + timedelta(days=current_app.config["JWT_SESSION_DAYS"])
    elif family_expires_at is None:
        raise TypeError("the next token of a family needs the family's end")
    idle_end = now + timedelta(days=current_app.config["JWT_REFRESH_DAYS"])
    db.session.add(
        RefreshToken(
            user_id=user.id,
            auth_key=user.auth_key,
            token_hash=_digest(token),
            family=family,
            expires_at=min(idle_end, family_expires_at),
            family_expires_at=family_expires_at,
            scope=scope_text(scopes),
        )
    )
    return token


def _revoke_family(family: str) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def _spend(record: RefreshToken) -> bool:
    """Mark the token used, in one conditional write: of any number of
    concurrent requests presenting it, exactly one sees a row change."""
    spent = db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == record.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    )
    return spent.rowcount == 1


def rotate_refresh_token(token: str) -> tuple[Access, str]:
    """Spend a refresh token: return its user with the scopes of its log-in,
    and the next token.
    A token used twice, even by two requests at the same moment, revokes its
    whole family (it was copied)."""
    record = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
    )
    if record is None:
        raise RejectedTokenError("unknown refresh token")
    family, user_id, auth_key = record.family, record.user_id, record.auth_key
    scopes = frozenset(record.scope.split()).intersection(SCOPES)
    family_expires_at = as_utc(record.family_expires_at)
    now = datetime.now(UTC)
    if as_utc(record.expires_at) <= now or family_expires_at <= now:
        db.session.rollback()
        raise RejectedTokenError("refresh token expired")
    user = db.session.get(User, user_id)
    if not _same_key(user, auth_key):
        db.session.rollback()
        raise RejectedTokenError("no such account")
    if user.disabled_at is not None:
        db.session.rollback()
        raise RejectedTokenError("account disabled")
    if not _spend(record):
        _revoke_family(family)
        db.session.commit()
        raise RejectedTokenError("refresh token reused; family revoked")
    # A role taken away since the log-in takes its scopes with it.
    scopes = granted_scopes(user, scopes)
    following = issue_refresh_token(user, scopes, family, family_expires_at)
    db.session.commit()
    return Access(user, scopes), following


def revoke_refresh_token(token: str) -> None:
    """Log out: the token and every token rotated from it stop working."""
    record = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
    )
    if record is not None:
        _revoke_family(record.family)
        db.session.commit()
