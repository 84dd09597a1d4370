"""Passkeys (WebAuthn): log in with a key pair that an authenticator (a
phone, a security key, a password manager) keeps for this site, instead of a
password. The client application's page does the asking (api_passkeys.py); this module makes
the challenges and checks the answers with the `webauthn` package.

- The relying party is the client application at CLIENT_APP_URL, whose
  pages call this API: its ID is that URL's host name and the origin its
  own; or PASSKEY_RP_ID, a parent domain, with the origins PASSKEY_ORIGINS
  lists. A browser puts the page's real origin in what it signs, so a
  look-alike site that relays the API cannot use an answer it gets.
  An IP address cannot be an RP ID: a CLIENT_APP_URL at one offers none.
- User verification is required (a PIN, a fingerprint or a face on the
  authenticator), so a passkey log-in is two factors in one: it does not ask
  for the TOTP code of two-factor log-in too.
- Each challenge is 64 random bytes, kept in the database (passkey
  ceremonies) for CEREMONY_SECONDS under the digest of a random ceremony
  token the client sends back with its answer, and deleted when an answer
  comes, right or wrong: of two answers at once, one deletes it.
- A log-in finds the passkey by its credential id and checks that the user
  handle the authenticator returns is the account's, and the signature
  counter: a counter that does not grow (once it is not 0) means a cloned
  key, and the log-in is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, func, select, update
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

from .config import origin_of
from .extensions import db
from .models import Passkey, PasskeyCeremony, User

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


def relying_party() -> tuple[str, list[str]] | None:
    """(RP ID, the origins whose pages may answer), or None where passkeys
    cannot work: a CLIENT_APP_URL at an IP address."""
    rp_id = current_app.config["PASSKEY_RP_ID"]
    if rp_id:
        # config.py checked that each of these lies under the RP ID.
        return rp_id, list(current_app.config["PASSKEY_ORIGINS"])
    origin = origin_of(current_app.config["CLIENT_APP_URL"])
    host = urlsplit(origin).hostname or ""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return host, [origin]
    return None


def available() -> bool:
    return relying_party() is not None


def _party() -> tuple[str, list[str]]:
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


def _begin(kind: str, challenge: bytes, **extra: Any) -> str:
    """Keep CHALLENGE for an answer of KIND; the ceremony token that names it."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    # Ceremonies nobody answered go as new ones come.
    db.session.execute(
        delete(PasskeyCeremony).where(PasskeyCeremony.started < int(now) - CEREMONY_SECONDS)
    )
    state = {"challenge": bytes_to_base64url(challenge), **extra}
    db.session.add(
        PasskeyCeremony(
            token_digest=_token_digest(token), kind=kind, state=json.dumps(state), started=int(now)
        )
    )
    db.session.commit()
    return token


def _take(kind: str, token: object) -> dict[str, Any]:
    """The challenge of ceremony TOKEN for KIND, deleted: an answer is
    checked against a challenge once."""
    if not isinstance(token, str) or not token or len(token) > 100:
        raise PasskeyRefusedError("no ceremony token")
    ceremony = db.session.scalar(
        select(PasskeyCeremony).where(PasskeyCeremony.token_digest == _token_digest(token))
    )
    if ceremony is None:
        raise PasskeyRefusedError("no challenge for this token")
    # Deleted first: an answer of the wrong kind spends it too.
    taken = db.session.execute(
        delete(PasskeyCeremony).where(PasskeyCeremony.id == ceremony.id)
    ).rowcount
    db.session.commit()
    if taken != 1:
        raise PasskeyRefusedError("another answer took this challenge")
    if ceremony.kind != kind:
        raise PasskeyRefusedError("the challenge was made for another kind of answer")
    if time.time() - ceremony.started > CEREMONY_SECONDS:
        raise PasskeyRefusedError("the challenge expired")
    return json.loads(ceremony.state)


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _challenge_bytes(ceremony: dict[str, Any]) -> bytes:
    return base64url_to_bytes(ceremony["challenge"])


def registration_options(user: User, name: str) -> tuple[str, str]:
    """The options, as JSON, for the client's page to make a passkey for
    USER called NAME, and the ceremony token its answer comes back with."""
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
    token = _begin("register", challenge, user_id=user.id, handle=user.passkey_user_id, name=name)
    return options_to_json(options), token


def register(user: User, credential: object, ceremony_token: object) -> Passkey:
    """The new passkey of USER from the answer CREDENTIAL to the ceremony of
    CEREMONY_TOKEN (added to the session, not committed), or
    PasskeyRefusedError."""
    ceremony = _take("register", ceremony_token)
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


def authentication_options() -> tuple[str, str]:
    """The options, as JSON, for the client's page to log in with any
    passkey of this site the browser holds (no list of allowed keys: the
    browser offers them), and the ceremony token its answer comes back with."""
    rp_id, _ = _party()
    challenge = secrets.token_bytes(64)
    options = generate_authentication_options(
        rp_id=rp_id,
        challenge=challenge,
        timeout=CEREMONY_SECONDS * 1000,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), _begin("login", challenge)


def authenticate(credential: object, ceremony_token: object) -> User:
    """The account whose passkey made CREDENTIAL, the answer to the ceremony
    of CEREMONY_TOKEN; its signature counter is moved on.
    PasskeyRefusedError otherwise."""
    ceremony = _take("login", ceremony_token)
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
    return user


def _user_handle(user: User) -> bytes:
    return base64url_to_bytes(user.passkey_user_id or "")
