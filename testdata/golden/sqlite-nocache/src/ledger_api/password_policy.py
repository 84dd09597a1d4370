"""What a new password must be, after NIST SP 800-63B and OWASP ASVS 2.1.

- At least PASSWORD_MIN_LENGTH characters (12 unless configured; 8 to 64
  allowed), at most MAX_PASSWORD_LENGTH (128: a passphrase fits, and the
  hashing work per log-in stays bounded). No rules about character classes.
- Not one of the 100,000 most common passwords (common-passwords.txt.gz, in
  lower case; see its NOTICE), in any letter case: they are guessed first.
- Not built on the account's own email address or its parts.
- With PASSWORD_BREACH_CHECK on: not a password seen in a breach, asked of
  the Pwned Passwords range API by k-anonymity (only the first five hex digits
  of its SHA-1 leave the process; padded answers hide which suffix was asked).
  Without a whole answer within PASSWORD_BREACH_CHECK_SECONDS (connecting and
  reading included; redirects are not followed) the password is let through
  and a warning logged. Log-in never runs this check.

These apply where a password is chosen: registration, reset and change.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import ssl
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as WaitedTooLong
from functools import cache
from http.client import HTTPException
from pathlib import Path
from urllib.error import URLError
from urllib.request import HTTPRedirectHandler, HTTPSHandler, Request, build_opener

from flask import current_app

MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")
# A padded range answer is about 40 KB; anything far larger is not one.
MAX_RANGE_ANSWER_BYTES = 1 << 20
# Where the range API is asked, so a caller can stop waiting at its deadline
# (a socket timeout bounds each read, not name resolution or the whole answer).
_askers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="breach-check")


def password_problem(password: str, email: str = "") -> str | None:
    """Why this password may not be chosen (a sentence for the form), or None."""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return f"Use at least {minimum} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    if is_common(password):
        return "This is one of the most common passwords, which are guessed first. Choose another."
    if _built_on_address(password, email, minimum):
        return "Your password may not be built on your email address. Choose another."
    if current_app.config["PASSWORD_BREACH_CHECK"] and seen_in_breach(password) is True:
        return (
            "This password has appeared in a data breach (haveibeenpwned.com), "
            "so attackers try it. Choose another."
        )
    return None


def is_common(password: str) -> bool:
    """Whether the password, in any letter case, is on the common list."""
    return _listed(password.lower().encode())


@cache
def _common_passwords() -> bytes:
    # One sorted blob (about 780 KB) searched in place: a set of 100,000
    # strings would hold ten times the memory in every worker.
    return gzip.decompress(COMMON_PASSWORDS.read_bytes())


def _listed(word: bytes) -> bool:
    """Bisection over the newline-separated, byte-sorted list."""
    blob = _common_passwords()
    low, high = 0, len(blob)
    while low < high:
        middle = (low + high) // 2
        start = blob.rfind(b"\n", 0, middle) + 1
        end = blob.find(b"\n", start)
        if end == -1:
            end = len(blob)
        line = blob[start:end]
        if line == word:
            return True
        if line < word:
            low = end + 1
        else:
            high = start
    return False


def _built_on_address(password: str, email: str, minimum: int) -> bool:
    """True when little is left of the password once the address, its domain,
    the part before the @ (with and without separators) and that part's
    pieces are taken out, wherever and however often they appear."""
    address = email.strip().lower()
    if not address:
        return False
    local, _, domain = address.partition("@")
    pieces = [address, domain, local, re.sub(r"[._+-]", "", local), *re.split(r"[._+-]", local)]
    rest = password.lower()
    # Longest first, so a piece never splits a longer one before it is removed.
    for piece in sorted({p for p in pieces if len(p) >= 2}, key=len, reverse=True):
        rest = rest.replace(piece, "")
    return len(rest) < minimum // 2


def seen_in_breach(password: str) -> bool | None:
    """True or False from the range API, None when it could not be asked."""
    digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
    prefix, suffix = digest[:5], digest[5:]
    config = current_app.config
    seconds = config["PASSWORD_BREACH_CHECK_SECONDS"]
    asking = _askers.submit(
        _ask_range,
        config["PASSWORD_BREACH_CHECK_URL"] + prefix,
        current_app.import_name,
        time.monotonic() + seconds,
    )
    try:
        answer = asking.result(timeout=seconds)
    except (WaitedTooLong, URLError, HTTPException, OSError, ValueError) as error:
        current_app.logger.warning(
            "password breach check unavailable; password let through",
            extra={"event": "password_breach_check_unavailable", "reason": type(error).__name__},
        )
        return None
    for line in answer.splitlines():
        listed, _, count = line.partition(":")
        # Padding lines have a count of 0.
        if listed.strip() == suffix and count.strip().isdigit() and int(count) > 0:
            current_app.logger.info(
                "new password refused: seen in a breach", extra={"event": "password_breached"}
            )
            return True
    return False


class _NoRedirects(HTTPRedirectHandler):
    """A redirect is an error: the answer comes from the configured URL or not at all."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _ask_range(url: str, client: str, deadline: float) -> str:
    """The range API's whole answer, read by deadline (raises otherwise)."""
    opener = build_opener(_NoRedirects, HTTPSHandler(context=ssl.create_default_context()))
    # The URL is PASSWORD_BREACH_CHECK_URL, checked at start-up: https, or http to loopback.
    request = Request(  # noqa: S310
        url, headers={"Add-Padding": "true", "User-Agent": f"{client} password check"}
    )
    with opener.open(request, timeout=max(deadline - time.monotonic(), 0.1)) as response:
        answer = b""
        while chunk := response.read(16384):
            answer += chunk
            if len(answer) > MAX_RANGE_ANSWER_BYTES or time.monotonic() > deadline:
                raise ValueError("no whole answer in time")
        if response.length:
            raise ValueError("answer shorter than its Content-Length")
    return answer.decode("ascii")
