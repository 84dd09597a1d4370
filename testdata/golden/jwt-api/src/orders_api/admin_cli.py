"""`flask users create`, `set-role`, `disable` and `enable`: accounts made
and changed by an operator. There is no default admin and no default
password: the first admin is made here, with a password typed at the
prompt. Each change is a JSON log line and a security event of the account,
as the admin API's are."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from .addresses import normalize_email
from .extensions import db
from .models import User
from .password_policy import password_problem
from .passwords import hash_password
from .roles import ADMIN, ROLES, USER
from .security_events import record
from .users_cli import users


@users.command("create")
@click.argument("email")
@click.option("--admin", "make_admin", is_flag=True, help="Give the account the admin role.")
@click.password_option(
    "--password",
    prompt="Password",
    help="Prompted for (twice) when not given; never put it on a command line others can read.",
)
def create(email: str, make_admin: bool, password: str) -> None:
    """Create a confirmed account for EMAIL, with a password typed at the prompt."""
    try:
        address = normalize_email(validate_email(email, check_deliverability=False).normalized)
    except EmailNotValidError as error:
        raise click.BadParameter(str(error), param_hint="EMAIL") from error
    problem = password_problem(password, email=address)
    if problem:
        raise click.ClickException(f"password refused: {problem}")
    if db.session.scalar(select(User.id).where(User.email == address)) is not None:
        raise click.ClickException(
            f"an account of {address} exists already; flask users set-role changes its role"
        )
    role = ADMIN if make_admin else USER
    user = User(
        email=address,
        password_hash=hash_password(password),
        email_verified_at=datetime.now(UTC),
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    record(user.id, "role_changed")
    db.session.commit()
    _logged("account created by an operator", user)
    click.echo(f"created {address} with the role {role}")
    if role == ADMIN:
        click.echo("log in and turn on two-factor log-in: the admin API asks for it")


@users.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(sorted(ROLES)))
def set_role(email: str, role: str) -> None:
    """Give the account of EMAIL the role ROLE."""
    user = _account(email)
    if user.email_verified_at is None:
        # Whoever registered the address chose the password: its owner has not confirmed it.
        raise click.ClickException(
            f"{user.email} is not confirmed yet; its owner must confirm it first"
        )
    user.role = role
    record(user.id, "role_changed")
    db.session.commit()
    _logged("role changed by an operator", user)
    click.echo(f"{user.email} now has the role {role}")


@users.command("disable")
@click.argument("email")
def disable(email: str) -> None:
    """Disable the account of EMAIL: it cannot log in, and its tokens end."""
    user = _account(email)
    user.disable()
    record(user.id, "account_disabled")
    db.session.commit()
    _logged("account disabled by an operator", user)
    click.echo(f"{user.email} is disabled; its tokens have ended")


@users.command("enable")
@click.argument("email")
def enable(email: str) -> None:
    """Enable the account of EMAIL again."""
    user = _account(email)
    user.disabled_at = None
    record(user.id, "account_enabled")
    db.session.commit()
    _logged("account enabled by an operator", user)
    click.echo(f"{user.email} is enabled")


def _account(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == normalize_email(email)))
    if user is None:
        raise click.ClickException(f"no account of {email}")
    return user


def _logged(message: str, user: User) -> None:
    current_app.logger.info(
        message,
        extra={"event": "operator_action", "user_id": user.id, "role": user.role},
    )
