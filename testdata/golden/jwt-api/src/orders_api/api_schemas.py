"""The shapes of the API's JSON: what each route takes and answers, as
pydantic models. Request bodies are checked against them before a view runs
(openapi.py), and the OpenAPI document is made from them, so the document
cannot drift from what the code accepts.

Strict models: a number is not a string here, nor "1" a number. Unknown
fields are ignored, so older clients keep working when a field is added.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

# A required text field: a string, not empty. Lengths beyond that are the
# views' to check, with messages that say which rule was broken.
Text = Annotated[str, Field(min_length=1)]


class Schema(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")


class Registration(Schema):
    email: Text = Field(examples=["ada@example.com"])
    password: Text = Field(examples=["correct horse battery staple"])


class TokenRequest(Schema):
    email: Text = Field(examples=["ada@example.com"])
    password: Text = Field(examples=["correct horse battery staple"])
    scope: str | None = Field(
        default=None,
        description="Space-separated scopes to ask for; all of them when left out.",
        examples=["notes:read"],
    )
    device_token: str | None = Field(
        default=None,
        description="The device token an earlier log-in gave this client.",
    )


class RefreshTokenBody(Schema):
    refresh_token: Text


class LinkToken(Schema):
    token: Text = Field(description="The token of the mailed link.")


class LinkTokenAndPassword(Schema):
    token: Text = Field(description="The token of the mailed link.")
    password: Text


class Address(Schema):
    email: Text = Field(examples=["ada@example.com"])


class PasswordChange(Schema):
    current_password: Text
    password: Text = Field(description="The new password.")


class AddressChange(Schema):
    password: Text = Field(description="The current password.")
    email: Text = Field(description="The new address.", examples=["grace@example.com"])


class CurrentPassword(Schema):
    password: Text = Field(description="The current password.")


class TwoFactorConfirmation(Schema):
    setup_token: Text = Field(description="The set-up's setup_token.", max_length=2000)
    code: Text = Field(
        description="The code the authenticator app shows now.", examples=["123456"], max_length=40
    )
    password: Text = Field(description="The current password.")


class TwoFactorLogIn(Schema):
    two_factor_token: Text = Field(description="The log-in's two_factor_token.", max_length=2000)
    code: Text = Field(
        description="The code the authenticator app shows now, or an unused recovery code.",
        examples=["123456"],
        max_length=40,
    )
    device_token: str | None = Field(
        default=None,
        description="The device token an earlier log-in gave this client.",
    )


class PasskeyStart(Schema):
    name: Text = Field(description="What the owner calls it.", examples=["Phone"], max_length=60)
    password: Text = Field(description="The current password.")


class PasskeyAnswer(Schema):
    ceremony_token: Text = Field(description="The options' ceremony_token.", max_length=100)
    credential: dict[str, object] = Field(
        description="The browser's answer (PublicKeyCredential.toJSON())."
    )


class PasskeyLogIn(PasskeyAnswer):
    scope: str | None = Field(
        default=None,
        description="Space-separated scopes to ask for; all of them when left out.",
    )


class NoteBody(Schema):
    title: Text = Field(examples=["Groceries"])
    body: str = Field(default="", examples=["eggs, flour"])


# Answers.


class Problem(Schema):
    error: str


class Message(Schema):
    message: str


class MessageAndDevice(Schema):
    message: str
    device_token: str = Field(description="Send it with this client's next log-ins.")


class Tokens(Schema):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token is good for.")
    refresh_token: str
    scope: str = Field(description="The scopes granted, space-separated.")


class LoginTokens(Tokens):
    device_token: str = Field(description="Send it with this client's next log-ins.")


class TwoFactorRequired(Schema):
    error: str
    two_factor_token: str = Field(
        description="Send it with a code to POST /api/v1/auth/token/two-factor."
    )
    expires_in: int = Field(description="Seconds the two_factor_token is good for.")


class TwoFactorState(Schema):
    enabled: bool
    recovery_codes_left: int


class TwoFactorSetup(Schema):
    secret: str = Field(description="The TOTP secret in base32, to type into an app by hand.")
    otpauth_uri: str = Field(description="The otpauth:// URI authenticator apps read.")
    qr_code: str = Field(description="The otpauth URI as a QR code: an SVG image as a data: URI.")
    setup_token: str = Field(description="Send it back with a code to turn two-factor log-in on.")
    expires_in: int = Field(description="Seconds the setup_token is good for.")


class RecoveryCodes(Schema):
    recovery_codes: list[str] = Field(description="Shown once; each logs in once, for a code.")


class TwoFactorOn(LoginTokens):
    recovery_codes: list[str] = Field(description="Shown once; each logs in once, for a code.")


class CeremonyOptions(Schema):
    options: dict[str, object] = Field(
        description="For navigator.credentials.create() or .get(), as JSON (WebAuthn Level 3)."
    )
    ceremony_token: str = Field(description="Send it back with the answer, within 5 minutes.")


class PasskeyInfo(Schema):
    id: int
    name: str
    created_at: str = Field(description="ISO 8601, UTC.")
    last_used_at: str | None = Field(description="ISO 8601, UTC; null if never used.")
    synced: bool = Field(description="Whether the authenticator says the key is backed up.")


class PasskeyList(Schema):
    passkeys: list[PasskeyInfo]
    available: bool = Field(description="False when CLIENT_APP_URL is at an IP address.")
    limit: int = Field(description="The most passkeys an account may hold.")


class Profile(Schema):
    id: int
    email: str


class SecurityEvent(Schema):
    time: str = Field(description="ISO 8601, UTC.")
    kind: str
    description: str
    client: str | None


class SecurityEvents(Schema):
    events: list[SecurityEvent]


class Note(Schema):
    id: int
    title: str
    body: str
    created_at: str = Field(description="ISO 8601.")
    updated_at: str = Field(description="ISO 8601.")


class NotePage(Schema):
    notes: list[Note]
    page: int
    pages: int
    total: int


class AdminUser(Schema):
    id: int
    email: str
    role: str
    confirmed: bool = Field(description="Whether the address was confirmed.")
    two_factor: bool = Field(description="Whether two-factor log-in is on.")
    disabled: bool
    created_at: str = Field(description="ISO 8601, UTC.")


class AdminUserPage(Schema):
    users: list[AdminUser]
    page: int
    pages: int
    total: int


class Document(BaseModel):
    """An OpenAPI document (its own schema checks the rest)."""

    model_config = ConfigDict(extra="allow")
    openapi: str
    info: dict[str, object]
    paths: dict[str, object]
