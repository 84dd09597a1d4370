"""Passkeys (WebAuthn): log in with a key pair that an authenticator (a
phone, a security key, a password manager) keeps for this site, instead of a
password. The browser does the asking (static/passkeys.js); this module makes
the challenges and checks the answers with the `webauthn` package.

- The relying party is this site: its ID is the host name the request came
  to (TRUSTED_HOSTS limits which), and the origin is the request's own; or
  PASSKEY_RP_ID, a parent domain, with the origins PASSKEY_ORIGINS lists. A
  browser puts the page's real origin in what it signs, so a look-alike site
  that relays our pages cannot use an answer it gets.
  An IP address cannot be an RP ID: opened as http://127.0.0.1, the site
  offers no passkeys (open http://localhost instead).
- User verification is required (a PIN, a fingerprint or a face on the
  authenticator), so a passkey log-in is two factors in one: it does not ask
  for the TOTP code of two-factor log-in too.
- Each challenge is 64 random bytes, kept in the session for
  CEREMONY_SECONDS and taken out when an answer comes, right or wrong.
- A log-in finds the passkey by its credential id and checks that the user
  handle the authenticator returns is the account's, and the signature
  counter: a counter that does not grow (once it is not 0) means a cloned
  key, and the log-in is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request, session
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    generate_user_handle,
    parse_authentication_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from .extensions import db
from .models import Passkey, User

CEREMONY_KEY = "passkey_ceremony"
# How long a browser has to answer a challenge (and the timeout it is given).
CEREMONY_SECONDS = 300
NAME_LENGTH = 60
PASSKEYS_PER_ACCOUNT = 20
# WebAuthn's bound on credential ids, and far past any public key's COSE
# form (an RSA-4096 key takes about 550 bytes).
MAX_CREDENTIAL_ID = 1023
MAX_PUBLIC_KEY = 2048


class PasskeyRefusedError(Exception):
    """An answer that does not log in or register; the message is for the
    log, never for the client."""


class PasskeyLimitError(PasskeyRefusedError):
    """The account holds PASSKEYS_PER_ACCOUNT passkeys already."""


def relying_party() -> tuple[str, str] | None:
    """(RP ID, origin) of this request, or None where passkeys cannot work:
    a site opened by its IP address, or (with PASSKEY_RP_ID) at an origin
    PASSKEY_ORIGINS does not list."""
    origin = f"{request.scheme}://{request.host}"
    rp_id = current_app.config["PASSKEY_RP_ID"]
    if rp_id:
        # Not the Host header alone: any subdomain's page can ask a browser
        # for the parent domain's passkeys.
        return (rp_id, origin) if origin in current_app.config["PASSKEY_ORIGINS"] else None
    host = urlsplit(origin).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host, origin
    return None


def available() -> bool:
    return relying_party() is not None


def _party() -> tuple[str, str]:
    party = relying_party()
    if party is None:
        raise PasskeyRefusedError("passkeys need a host name, not an IP address")
    return party


def _digest(credential_id: bytes) -> str:
    return hashlib.sha256(credential_id).hexdigest()


def passkeys_of(user_id: int) -> list[Passkey]:
    return list(
        db.session.scalars(select(Passkey).where(Passkey.user_id == user_id).order_by(Passkey.id))
    )


def passkey_of(user_id: int, passkey_id: int) -> Passkey | None:
    """The account's passkey with that id, or None, whether it is missing or
    another account's."""
    return db.session.scalar(
        select(Passkey).where(Passkey.user_id == user_id, Passkey.id == passkey_id)
    )


def count_of(user_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Passkey).where(Passkey.user_id == user_id)
    )


def _begin(kind: str, challenge: bytes, **extra: Any) -> None:
    session[CEREMONY_KEY] = {
        "kind": kind,
        "challenge": bytes_to_base64url(challenge),
        "at": int(time.time()),
        **extra,
    }


def _take(kind: str) -> dict[str, Any]:
    """The session's challenge for KIND, taken out of it: an answer is
    checked against a challenge once."""
    ceremony = session.pop(CEREMONY_KEY, None)
    if not isinstance(ceremony, dict) or ceremony.get("kind") != kind:
        raise PasskeyRefusedError("no challenge of this kind in the session")
    if time.time() - ceremony.get("at", 0) > CEREMONY_SECONDS:
        raise PasskeyRefusedError("the challenge expired")
    return ceremony


def _challenge_bytes(ceremony: dict[str, Any]) -> bytes:
    return base64url_to_bytes(ceremony["challenge"])


def registration_options(user: User, name: str) -> str:
    """The options, as JSON, for the browser to make a passkey for USER
    called NAME; the challenge waits in the session."""
    rp_id, _ = _party()
    if user.passkey_user_id is None:
        # Set once: of two first registrations at once, both get the winner's.
        db.session.execute(
            update(User)
            .where(User.id == user.id, User.passkey_user_id.is_(None))
            .values(passkey_user_id=bytes_to_base64url(generate_user_handle()))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        db.session.refresh(user)
    challenge = secrets.token_bytes(64)
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=current_app.config["PASSKEY_RP_NAME"],
        user_id=_user_handle(user),
        user_name=user.email,
        user_display_name=user.email,
        challenge=challenge,
        timeout=CEREMONY_SECONDS * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        # An authenticator that holds one already says so instead of making another.
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=passkey.credential_id)
            for passkey in passkeys_of(user.id)
        ],
    )
    _begin("register", challenge, user_id=user.id, handle=user.passkey_user_id, name=name)
    return options_to_json(options)


def register(user: User, credential: object) -> Passkey:
    """The new passkey of USER from the browser's answer CREDENTIAL (added to
    the session, not committed), or PasskeyRefusedError."""
    ceremony = _take("register")
    if ceremony.get("user_id") != user.id or ceremony.get("handle") != user.passkey_user_id:
        raise PasskeyRefusedError("the challenge was made for another account or user handle")
    if not isinstance(credential, dict):
        raise PasskeyRefusedError("the answer is not a JSON object")
    rp_id, origin = _party()
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=_challenge_bytes(ceremony),
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyRefusedError(f"registration not verified: {error}") from error
    if len(verified.credential_id) > MAX_CREDENTIAL_ID or len(verified.credential_public_key) > (
        MAX_PUBLIC_KEY
    ):
        raise PasskeyRefusedError("the credential id or public key is too long")
    # The account's row locked first: two additions at once count one after the other.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    if count_of(user.id) >= PASSKEYS_PER_ACCOUNT:
        raise PasskeyLimitError("the account holds as many passkeys as it may")
    passkey = Passkey(
        user_id=user.id,
        credential_id=verified.credential_id,
        credential_digest=_digest(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=ceremony.get("name") or "Passkey",
        backed_up=verified.credential_backed_up,
    )
    db.session.add(passkey)
    try:
        db.session.flush()
    except IntegrityError as error:
        db.session.rollback()
        raise PasskeyRefusedError("this passkey is registered already") from error
    return passkey


def authentication_options(next_url: str | None) -> str:
    """The options, as JSON, for the browser to log in with any passkey of
    this site it holds (no list of allowed keys: the browser offers them)."""
    rp_id, _ = _party()
    challenge = secrets.token_bytes(64)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=CEREMONY_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _begin("login", challenge, next=next_url)
    return options_to_json(options)


def authenticate(credential: object) -> tuple[User, str | None]:
    """The account whose passkey made CREDENTIAL, and the page the log-in
    was for; its signature counter is moved on. PasskeyRefusedError otherwise."""
    ceremony = _take("login")
    if not isinstance(credential, dict):
        raise PasskeyRefusedError("the answer is not a JSON object")
    try:
        parsed = parse_authentication_credential_json(credential)
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyRefusedError(f"the answer is malformed: {error}") from error
    passkey = db.session.scalar(
        select(Passkey).where(Passkey.credential_digest == _digest(parsed.raw_id))
    )
    if passkey is None:
        raise PasskeyRefusedError("no account has this passkey")
    user = db.session.get(User, passkey.user_id)
    handle = parsed.response.user_handle
    if not handle or not hmac.compare_digest(handle, _user_handle(user)):
        raise PasskeyRefusedError("the user handle is not the account's")
    rp_id, origin = _party()
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=_challenge_bytes(ceremony),
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except (WebAuthnException, ValueError, TypeError, KeyError) as error:
        raise PasskeyRefusedError(f"log-in not verified: {error}") from error
    # Claimed only if nobody moved the counter meanwhile: of two log-ins
    # racing with one counter value, one wins.
    moved = db.session.execute(
        update(Passkey)
        .where(Passkey.id == passkey.id, Passkey.sign_count == passkey.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=datetime.now(UTC))
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise PasskeyRefusedError("another log-in used this signature counter")
    return user, ceremony.get("next")


def _user_handle(user: User) -> bytes:
    return base64url_to_bytes(user.passkey_user_id or "")
