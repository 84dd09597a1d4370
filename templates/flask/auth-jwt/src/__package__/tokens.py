"""Access tokens: short-lived JWTs signed with HS256 and JWT_SECRET_KEY.
Refresh tokens: random, stored only as a digest, rotated at every use.

The verifier accepts exactly one algorithm, so a token that names another
one ("none", or RS256 to confuse the key type) is refused before any
signature check. Issuer, audience, expiry and subject are required claims.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app
from sqlalchemy import select, update

from .about import PROJECT_NAME
from .extensions import db
from .models import RefreshToken

ALGORITHM = "HS256"
ISSUER = PROJECT_NAME
AUDIENCE = f"{PROJECT_NAME}-api"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]


class RejectedTokenError(Exception):
    """The token is not acceptable; the message says why, for the log only."""


def create_access_token(user_id: int) -> tuple[str, int]:
    """Return a signed access token for the user and its lifetime in seconds."""
    now = datetime.now(UTC)
    lifetime = timedelta(minutes=current_app.config["JWT_ACCESS_MINUTES"])
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": secrets.token_hex(16),
    }
    token = jwt.encode(claims, current_app.config["JWT_SECRET_KEY"], algorithm=ALGORITHM)
    return token, int(lifetime.total_seconds())


def verify_access_token(token: str) -> int:
    """Return the user id of a valid access token, or raise RejectedTokenError."""
    try:
        claims = jwt.decode(
            token,
            current_app.config["JWT_SECRET_KEY"],
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.InvalidTokenError as error:
        raise RejectedTokenError(type(error).__name__) from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.isdigit():
        raise RejectedTokenError("malformed subject")
    return int(subject)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(moment: datetime) -> datetime:
    # SQLite and MySQL hand back naive datetimes; every value stored is UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def issue_refresh_token(user_id: int, family: str | None = None) -> str:
    """Add a new refresh token to the session (the caller commits)."""
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(days=current_app.config["JWT_REFRESH_DAYS"])
    db.session.add(
        RefreshToken(
            user_id=user_id,
            token_hash=_digest(token),
            family=family or secrets.token_hex(16),
            expires_at=datetime.now(UTC) + lifetime,
        )
    )
    return token


def _revoke_family(family: str) -> None:
    db.session.execute(
        update(RefreshToken)
        .where(RefreshToken.family == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def rotate_refresh_token(token: str) -> tuple[int, str]:
    """Spend a refresh token: return its user id and the next token.
    A token used twice revokes its whole family (it was copied)."""
    record = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token)).with_for_update()
    )
    if record is None:
        raise RejectedTokenError("unknown refresh token")
    if record.revoked_at is not None:
        _revoke_family(record.family)
        db.session.commit()
        raise RejectedTokenError("refresh token reused; family revoked")
    if _aware(record.expires_at) <= datetime.now(UTC):
        db.session.rollback()
        raise RejectedTokenError("refresh token expired")
    record.revoked_at = datetime.now(UTC)
    following = issue_refresh_token(record.user_id, record.family)
    db.session.commit()
    return record.user_id, following


def revoke_refresh_token(token: str) -> None:
    """Log out: the token and every token rotated from it stop working."""
    record = db.session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == _digest(token))
    )
    if record is not None:
        _revoke_family(record.family)
        db.session.commit()
