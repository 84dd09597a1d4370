"""`flask users ...`: account housekeeping for operators."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from .housekeeping import purge_unconfirmed as purge_unconfirmed_accounts

users = AppGroup("users", help="Account housekeeping.")


@users.command("purge-unconfirmed")
def purge_unconfirmed() -> None:
    """Delete accounts whose address was not confirmed within UNCONFIRMED_ACCOUNT_DAYS.

    Such an account cannot log in; deleting it frees its address for its
    real owner. The app also does this itself about once a day (housekeeping.py)."""
    deleted = purge_unconfirmed_accounts()
    days = current_app.config["UNCONFIRMED_ACCOUNT_DAYS"]
    click.echo(f"deleted {deleted} account(s) left unconfirmed for more than {days} days")
