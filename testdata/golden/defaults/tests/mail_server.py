"""A real SMTP server for the tests: aiosmtpd on 127.0.0.1, with a
certificate from a throw-away CA (trustme), requiring TLS (STARTTLS, or TLS
from the first byte) before it accepts a log-in, and a log-in before mail.
It keeps every message it receives."""

from __future__ import annotations

import email
import re
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from flask import Flask

from demo.after_response import (
    wait_until_done,
)

USERNAME = "app"
PASSWORD = "mail password for the tests"
SENDER = "noreply@example.com"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage

    def text(self) -> str:
        return self.message.get_body(preferencelist=("plain",)).get_content()

    def html(self) -> str:
        return self.message.get_body(preferencelist=("html",)).get_content()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[Received] = []
        self.arrived = threading.Condition()

    # aiosmtpd calls the handler method by this name.
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.arrived:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    good = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=good, handled=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """One SMTP server; ``implicit`` serves TLS from the first byte, else
    STARTTLS (required); ``tls=False`` offers no TLS at all. Its certificate
    names ``names``."""

    def __init__(
        self,
        directory: Path,
        *,
        implicit: bool = False,
        tls: bool = True,
        names: tuple[str, ...] = ("127.0.0.1", "localhost"),
    ) -> None:
        self.ca = trustme.CA()
        self.ca_file = directory / f"mail-ca-{id(self)}.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert(*names).configure_cert(server_context)
        self.mailbox = _Mailbox()
        self.port = _free_port()
        self.mode = "implicit" if implicit else "starttls" if tls else "none"
        # SMTPUTF8, as real servers offer: addresses need not be ASCII.
        smtp_options = {
            "authenticator": _authenticate,
            "auth_required": tls,
            "enable_SMTPUTF8": True,
        }
        if tls and not implicit:
            smtp_options.update(tls_context=server_context, require_starttls=True)
        if implicit:
            # aiosmtpd cannot tell that the whole connection is TLS, and would
            # otherwise hold AUTH back for a STARTTLS that never comes.
            smtp_options.update(auth_require_tls=False)
        self.controller = Controller(
            self.mailbox,
            hostname="127.0.0.1",
            port=self.port,
            ssl_context=server_context if implicit else None,
            server_hostname="127.0.0.1",
            **smtp_options,
        )

    def settings(self) -> dict[str, str]:
        """The app's MAIL_* settings for this server."""
        settings = {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(self.port),
            "MAIL_TLS": self.mode,
            "MAIL_CA_FILE": str(self.ca_file),
            "MAIL_FROM": SENDER,
        }
        if self.mode != "none":
            settings.update(MAIL_USERNAME=USERNAME, MAIL_PASSWORD=PASSWORD)
        return settings

    @contextmanager
    def running(self) -> Iterator[MailServer]:
        self.controller.start()
        try:
            yield self
        finally:
            self.controller.stop()

    def reset(self) -> None:
        with self.mailbox.arrived:
            self.mailbox.messages.clear()

    def received(self) -> list[Received]:
        with self.mailbox.arrived:
            return list(self.mailbox.messages)

    def wait_for(
        self,
        recipient: str,
        count: int = 1,
        timeout: float = 10,
        having: re.Pattern[str] | None = None,
    ) -> list[Received]:
        """The first ``count`` messages to ``recipient`` (whose text matches
        ``having``, if given), waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self.mailbox.arrived:
            while True:
                found = [
                    m
                    for m in self.mailbox.messages
                    if recipient in m.recipients and (having is None or having.search(m.text()))
                ]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"{len(found)} of {count} mails to {recipient} arrived in {timeout} s"
                    )
                self.mailbox.arrived.wait(left)

    def settle(self, app: Flask) -> list[Received]:
        """Everything received once APP has sent all the mail it queued so far:
        mail leaves after the response, from a worker thread, and a send
        returns only once this server has stored the message."""
        wait_until_done(app)
        return self.received()
