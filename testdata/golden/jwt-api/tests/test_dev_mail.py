"""The development mail catcher (make mail) refuses production and any
address off this host, and keeps what it catches where the README says."""

import smtplib
from email.message import EmailMessage

import pytest

from . import dev_mail
from .mail_server import _free_port


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"APP_ENV": "production"}, "development only"),
        ({"APP_ENV": "development", "MAIL_SERVER": "smtp.example.com"}, "127.0.0.1 only"),
    ],
)
def test_the_mail_catcher_refuses_production_and_other_hosts(monkeypatch, capsys, environ, problem):
    monkeypatch.setattr(dev_mail, "settings", lambda: environ)
    assert dev_mail.main() == 2
    assert problem in capsys.readouterr().err


def test_the_mail_catcher_saves_each_mail_and_its_text(tmp_path):
    from aiosmtpd.controller import Controller

    port = _free_port()
    controller = Controller(dev_mail.Catcher(tmp_path), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = "noreply@localhost", "ada@example.com", "Hi"
        mail.set_content("Follow https://localhost/auth/reset/new?token=" + "a" * 90)
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.send_message(mail)
    finally:
        controller.stop()
    assert (tmp_path / "0001.eml").is_file()
    text = (tmp_path / "0001.txt").read_text()
    assert "To: ada@example.com" in text
    assert "token=" + "a" * 90 in text
