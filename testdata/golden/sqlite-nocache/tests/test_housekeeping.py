"""The app deletes accounts left unconfirmed for UNCONFIRMED_ACCOUNT_DAYS by
itself, after a response, about once a day (housekeeping.py): no deployment
needs a scheduler for `flask users purge-unconfirmed`."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ledger_api import housekeeping
from ledger_api.after_response import (
    wait_until_done,
)
from ledger_api.extensions import db
from ledger_api.models import User


def add_accounts(app, **created):
    """Accounts made ``created[name]`` days ago; names starting with "c" confirmed."""
    now = datetime.now(UTC)
    with app.app_context():
        for name, days in created.items():
            db.session.add(
                User(
                    email=f"{name}@example.com",
                    password_hash="not a hash: these accounts never log in",
                    created_at=now - timedelta(days=days),
                    email_verified_at=now if name.startswith("c") else None,
                )
            )
        db.session.commit()


def accounts(app):
    with app.app_context():
        return {email.partition("@")[0] for email in db.session.scalars(select(User.email))}


def visit(app):
    assert app.test_client().get("/").status_code == 200
    wait_until_done(app)


def test_a_request_purges_accounts_left_unconfirmed_too_long(app, caplog):
    days = app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    add_accounts(app, old=days + 1, recent=days - 1, confirmed=days + 30)
    assert accounts(app) == {"old", "recent", "confirmed"}
    visit(app)
    assert accounts(app) == {"recent", "confirmed"}
    purged = [r for r in caplog.records if getattr(r, "event", "") == "unconfirmed_accounts_purged"]
    assert [r.count for r in purged] == [1]


def test_once_a_purge_is_done_the_day_is_done(app, monkeypatch):
    days = app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    clock = [1000.0]
    monkeypatch.setattr(housekeeping, "_clock", lambda: clock[0])
    looked = []
    purged_today = housekeeping._purged_today
    monkeypatch.setattr(
        housekeeping, "_purged_today", lambda a: looked.append(purged_today(a)) or looked[-1]
    )
    visit(app)  # today's purge, with nothing to purge
    add_accounts(app, old=days + 1)
    clock[0] += housekeeping.CHECK_EVERY_SECONDS + 1
    visit(app)  # due to look again, but today's purge is done
    assert looked == [False, True]
    assert accounts(app) == {"old"}


def test_a_failed_purge_is_tried_again_within_the_hour(app, monkeypatch, caplog):
    days = app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    add_accounts(app, old=days + 1)
    clock = [1000.0]
    monkeypatch.setattr(housekeeping, "_clock", lambda: clock[0])
    purge = housekeeping.purge_unconfirmed
    attempts = []

    def fails_once():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("the database is down")
        return purge()

    monkeypatch.setattr(housekeeping, "purge_unconfirmed", fails_once)
    visit(app)
    assert accounts(app) == {"old"}
    failed = "unconfirmed_accounts_purge_failed"
    assert [r.reason for r in caplog.records if getattr(r, "event", "") == failed] == [
        "RuntimeError"
    ]
    clock[0] += housekeeping.CHECK_EVERY_SECONDS + 1
    visit(app)
    assert accounts(app) == set()


def test_a_static_file_does_not_use_up_the_hour(app):
    days = app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    add_accounts(app, old=days + 1)
    client = app.test_client()
    assert client.get("/static/style.css").status_code == 200
    wait_until_done(app)
    visit(app)
    assert accounts(app) == set()


def test_each_worker_looks_at_most_once_an_hour(make_app, monkeypatch):
    # Without the shared once-a-day guard (rate limits off), only the hourly look is left.
    app = make_app(migrated=True, RATELIMIT_ENABLED=False)
    days = app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    clock = [1000.0]
    monkeypatch.setattr(housekeeping, "_clock", lambda: clock[0])
    visit(app)
    add_accounts(app, old=days + 1)
    clock[0] += housekeeping.CHECK_EVERY_SECONDS - 1
    visit(app)
    assert accounts(app) == {"old"}
    clock[0] += 2
    visit(app)
    assert accounts(app) == set()


def test_the_command_purges_on_demand(app):
    days = app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    add_accounts(app, old=days + 1, recent=1)
    result = app.test_cli_runner().invoke(args=["users", "purge-unconfirmed"])
    assert result.exit_code == 0, result.output
    assert f"deleted 1 account(s) left unconfirmed for more than {days} days" in result.output
    assert accounts(app) == {"recent"}
