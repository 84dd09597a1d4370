"""The one form an email address is stored and looked up in."""

from __future__ import annotations

import unicodedata
from contextlib import suppress

from email_validator import EmailNotValidError, validate_email


def normalize_email(email: str) -> str:
    """As the validator writes it (the domain as IDNA reads it, so "xn--" and
    look-alike full-width spellings are one domain), in lower case and Unicode
    NFC (a decomposed accent is the composed letter). Input that is no
    address is only trimmed, lower-cased and composed: it finds no account.
    Migration 0004 holds a copy, as of that revision."""
    email = email.strip()
    with suppress(EmailNotValidError):
        email = validate_email(email, check_deliverability=False).normalized
    return unicodedata.normalize("NFC", email.lower())
