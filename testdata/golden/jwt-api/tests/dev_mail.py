"""The development mail catcher (`make mail`): an SMTP server on 127.0.0.1
that delivers nothing. It prints each mail it receives and saves it under
src/instance/mail/ (NNNN.eml as sent, NNNN.txt its text part), so the links
the app mails (password reset) can be followed in development.

It reads MAIL_SERVER and MAIL_PORT from the environment or .env, as the app
does, refuses APP_ENV=production, and listens on loopback only. It is no part
of the image (the Dockerfile copies src/ only).
"""

from __future__ import annotations

import email
import os
import signal
import sys
import threading
from email import policy
from pathlib import Path

from aiosmtpd.controller import Controller
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parents[1]
ENV_FILE = ROOT / ".env"
DEFAULT_PORT = 1025
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def settings() -> dict[str, str]:
    """The app's settings: the environment first, then .env, as `flask run` reads them."""
    values = {k: v for k, v in dotenv_values(ENV_FILE).items() if v is not None}
    return {**values, **os.environ}


class Catcher:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()

    # aiosmtpd calls the handler method by this name.
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        with self.lock:
            number = len(list(self.folder.glob("*.eml"))) + 1
            stem = self.folder / f"{number:04d}"
            stem.with_suffix(".eml").write_bytes(envelope.content)
            summary = f"To: {', '.join(envelope.rcpt_tos)}\nSubject: {message['Subject']}\n\n{text}"
            stem.with_suffix(".txt").write_text(summary, encoding="utf-8")
        print(f"--- mail {stem.name} ({stem}.eml)\n{summary}", flush=True)
        return "250 Caught, not delivered"


def main() -> int:
    env = settings()
    host = env.get("MAIL_SERVER") or "127.0.0.1"
    port = int(env.get("MAIL_PORT") or DEFAULT_PORT)
    problem = None
    if env.get("APP_ENV", "production") == "production":
        problem = "APP_ENV is production (or unset): the mail catcher is for development only"
    elif host not in LOOPBACK_HOSTS:
        problem = f"MAIL_SERVER is {host!r}; the mail catcher listens on 127.0.0.1 only"
    if problem:
        print(f"make mail: {problem}", file=sys.stderr)
        return 2
    folder = Path(env.get("MAIL_CATCHER_DIR") or ROOT / "src" / "instance" / "mail")
    folder.mkdir(parents=True, exist_ok=True)
    # SMTPUTF8, as real servers offer: addresses need not be ASCII.
    controller = Controller(Catcher(folder), hostname="127.0.0.1", port=port, enable_SMTPUTF8=True)
    controller.start()
    print(
        f"Catching mail on 127.0.0.1:{port}; each one is printed here and saved in {folder}",
        flush=True,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
