"""Outgoing mail: plain text plus HTML, rendered from templates, sent over SMTP.

Production sends only over TLS with a verified certificate (MAIL_TLS=starttls
or implicit); plain SMTP goes to a loopback host only: a relay on this host
or, in development, the mail catcher `make mail` runs (config.py checks).

A mail is handed to this process's sender thread once the response has been
sent (the WSGI close), and the thread renders and sends it: a request that
sends mail and one that does not do the same work before they answer (no
account enumeration by timing), and a slow mail server never holds a worker.
The queue is bounded; past it a mail is dropped and logged rather than queued
without end. A mail still queued when the process stops is lost: each one is
a link the user can ask for again.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import Flask, render_template

from .after_response import run_after_response

OUTBOX_SIZE = 100
SMTP_TIMEOUT_SECONDS = 10


def masked(email: str) -> str:
    """An address as logs may show it: the first character and the domain."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def hint(email: str) -> str:
    """An address as a mail to its account's old address may show it: the
    first character of the mailbox name and the domain, enough for the owner
    to recognise it, little for anyone else."""
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}…@{domain}"


def send_mail(to: str, subject: str, template: str, **context: Any) -> None:
    """Send a mail made from templates/mail/TEMPLATE.txt and .html (the HTML
    one autoescaped, as every .html template is), after the response."""
    run_after_response("mail-sender", OUTBOX_SIZE, Mail(to, subject, template, context))


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    template: str
    context: dict[str, Any]

    def render(self, app: Flask) -> EmailMessage:
        sender = app.config["MAIL_FROM"]
        message = EmailMessage()
        message["From"] = sender
        message["To"] = self.to
        message["Subject"] = self.subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
        with app.app_context():
            message.set_content(render_template(f"mail/{self.template}.txt", **self.context))
            html = render_template(f"mail/{self.template}.html", **self.context)
        message.add_alternative(html, subtype="html")
        return message

    def run(self, app: Flask) -> None:
        deliver(app.config, self.render(app))
        self._log(app, logging.INFO, "mail sent", "mail_sent")

    def failed(self, app: Flask, error: Exception) -> None:
        self._log(app, logging.ERROR, f"mail not delivered: {_reason(error)}", "mail_failed")

    def dropped(self, app: Flask) -> None:
        self._log(app, logging.ERROR, "mail dropped: the outbox is full", "mail_dropped")

    def _log(self, app: Flask, level: int, text: str, event: str) -> None:
        app.logger.log(
            level, text, extra={"event": event, "mail": self.template, "to": masked(self.to)}
        )


def deliver(settings: Mapping[str, Any], message: EmailMessage) -> None:
    """Send one message now, over the connection the settings describe."""
    host, port, mode = settings["MAIL_SERVER"], settings["MAIL_PORT"], settings["MAIL_TLS"]
    context = ssl.create_default_context(cafile=settings["MAIL_CA_FILE"] or None)
    smtp: smtplib.SMTP
    if mode == "implicit":
        smtp = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
    else:
        smtp = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
    with smtp:
        if mode == "starttls":
            # Refused if the server does not offer STARTTLS: never a silent
            # fall back to plain text.
            smtp.starttls(context=context)
        if settings["MAIL_USERNAME"]:
            smtp.login(settings["MAIL_USERNAME"], settings["MAIL_PASSWORD"])
        smtp.send_message(message)


def _reason(error: Exception) -> str:
    """Why a delivery failed, without the server's text, which may quote the
    recipient's address or the message."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} (SMTP {error.smtp_code})"
    if isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException):
        return f"{type(error).__name__}: {error}"  # a connection or certificate problem
    return type(error).__name__
