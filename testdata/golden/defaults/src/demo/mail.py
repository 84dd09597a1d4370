"""Outgoing mail: plain text plus HTML, rendered from templates, sent over SMTP.

Production sends only over TLS with a verified certificate (MAIL_TLS=starttls
or implicit); plain SMTP goes to a loopback host only: a relay on this host
or, in development, the mail catcher `make mail` runs (config.py checks).

A mail leaves through one sender thread per process, after the response is
written: a request that sends mail and one that does not take the same time
(no account enumeration by timing), and a slow mail server never holds a
worker. The queue is bounded; past it a mail is dropped and logged rather
than queued without end. A mail still queued when the process stops is lost:
each one is a link the user can ask for again.
"""

from __future__ import annotations

import logging
import queue
import smtplib
import ssl
import threading
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from flask import Flask, current_app, render_template

OUTBOX_SIZE = 100
SMTP_TIMEOUT_SECONDS = 10
_EXTENSION = "mail_outbox"
_outbox_created = threading.Lock()


def masked(email: str) -> str:
    """An address as logs may show it: the first character and the domain."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def send_mail(to: str, subject: str, template: str, **context: Any) -> None:
    """Queue a mail made from templates/mail/TEMPLATE.txt and .html (the HTML
    one autoescaped, as every .html template is)."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=current_app.config["MAIL_FROM"].rpartition("@")[2])
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(render_template(f"mail/{template}.html", **context), subtype="html")
    _outbox(current_app._get_current_object()).put(message, template)


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


class Outbox:
    """A bounded queue and the thread that empties it, for one app."""

    def __init__(self, app: Flask) -> None:
        self.settings = dict(app.config)
        self.logger = app.logger
        self.queue: queue.Queue[tuple[EmailMessage, str]] = queue.Queue(OUTBOX_SIZE)
        self.thread: threading.Thread | None = None
        self.started = threading.Lock()

    def put(self, message: EmailMessage, kind: str) -> None:
        with self.started:
            # Started on first use, so each gunicorn worker gets its own after the fork.
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="mail-sender", daemon=True)
                self.thread.start()
        try:
            self.queue.put_nowait((message, kind))
        except queue.Full:
            self._log(
                logging.ERROR, "mail dropped: the outbox is full", "mail_dropped", message, kind
            )

    def wait_until_sent(self) -> None:
        """Block until every queued mail has been delivered or given up."""
        self.queue.join()

    def _run(self) -> None:
        while True:
            message, kind = self.queue.get()
            try:
                deliver(self.settings, message)
            except OSError as error:  # smtplib's and ssl's errors included
                self._log(
                    logging.ERROR,
                    f"mail not delivered: {_reason(error)}",
                    "mail_failed",
                    message,
                    kind,
                )
            else:
                self._log(logging.INFO, "mail sent", "mail_sent", message, kind)
            finally:
                self.queue.task_done()

    def _log(self, level: int, text: str, event: str, message: EmailMessage, kind: str) -> None:
        self.logger.log(
            level, text, extra={"event": event, "mail": kind, "to": masked(str(message["To"]))}
        )


def _reason(error: OSError) -> str:
    """Why a delivery failed, without the server's text, which may quote the
    recipient's address or the message."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"{type(error).__name__} (SMTP {error.smtp_code})"
    if isinstance(error, smtplib.SMTPException):
        return type(error).__name__
    return f"{type(error).__name__}: {error}"


def _outbox(app: Flask) -> Outbox:
    outbox = app.extensions.get(_EXTENSION)
    if outbox is None:
        with _outbox_created:
            outbox = app.extensions.setdefault(_EXTENSION, Outbox(app))
    return outbox
