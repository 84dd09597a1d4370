"""`flask users ...`: account housekeeping for operators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import delete

from .extensions import db
from .models import User

users = AppGroup("users", help="Account housekeeping.")


@users.command("purge-unconfirmed")
def purge_unconfirmed() -> None:
    """Delete accounts whose address was not confirmed within UNCONFIRMED_ACCOUNT_DAYS.

    Such an account cannot log in; deleting it frees its address for its
    real owner. Run it daily (a cron job or a Kubernetes CronJob)."""
    days = current_app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    cutoff = datetime.now(UTC) - timedelta(days=days)
    deleted = db.session.execute(
        delete(User).where(User.email_verified_at.is_(None), User.created_at < cutoff)
    ).rowcount
    db.session.commit()
    current_app.logger.info(
        "unconfirmed accounts deleted",
        extra={"event": "unconfirmed_accounts_purged", "count": deleted},
    )
    click.echo(f"deleted {deleted} account(s) left unconfirmed for more than {days} days")
