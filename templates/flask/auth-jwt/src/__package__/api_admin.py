"""The admin API under /api/v1/admin: find accounts, disable and enable
them, end their log-ins.

Deny by default: `_gate` runs before every view of this blueprint and
refuses any view that does not name its permission with `@admin_only`.
`@admin_only(permission)` then asks for an access token with the `admin`
scope (granted at log-in to staff roles only), a role that holds the
permission now (a role taken away closes the API at once, whatever the
token says), and two-factor log-in on the caller's account (turning it on
ended every log-in that had not passed it). Every action is a JSON log line
naming the admin and the account, and a security event on the account.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, current_app, g, jsonify, request
from sqlalchemy import select

from . import api_schemas
from .api import token_required
from .api_requests import api_blueprint, error
from .extensions import db
from .models import User
from .openapi import MAX_ID, documented
from .roles import DISABLE_USERS, END_USER_SESSIONS, LIST_USERS, allowed
from .security_events import record
from .stored_times import as_utc

bp = api_blueprint("api_admin", "/api/v1/admin")

PER_PAGE = 20
MAX_QUERY_LENGTH = 254
# Far past any real list, and short of an OFFSET the database cannot take.
MAX_PAGE = 100_000

NOT_ALLOWED = "This needs an admin role that allows it."
# What every admin route may answer 403 for.
REFUSED = (
    "The token lacks the admin scope (insufficient_scope), the account's role does not allow "
    "this now, or the account has no two-factor log-in.",
    api_schemas.Problem,
)
NEEDS_TWO_FACTOR = (
    "Admin requests need two-factor log-in on your account: turn it on, then log in again."
)


@bp.before_request
def _gate():
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "required_permission", None) is None:
        current_app.logger.warning(
            "admin request refused: the view names no permission",
            extra={"event": "admin_refused", "path": request.path},
        )
        return error(NOT_ALLOWED, 403)
    return None


def admin_only(permission: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The view needs an access token good for `admin`, whose account's role
    holds PERMISSION now and has two-factor log-in on."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not allowed(g.user, permission):
                _refused("admin request refused: not allowed", "admin_refused")
                return error(NOT_ALLOWED, 403)
            if not g.user.two_factor_enabled:
                _refused("admin request refused: no two-factor log-in", "admin_single_factor")
                return error(NEEDS_TWO_FACTOR, 403)
            return view(*args, **kwargs)

        # Read by _gate and by the test that every admin route names one.
        checked.required_permission = permission
        return token_required("admin")(checked)

    return decorate


def _refused(message: str, event: str) -> None:
    current_app.logger.warning(
        message, extra={"event": event, "user_id": g.user.id, "path": request.path}
    )


def _as_json(account: User) -> dict[str, object]:
    return {
        "id": account.id,
        "email": account.email,
        "role": account.role,
        "confirmed": account.email_verified_at is not None,
        "two_factor": account.two_factor_enabled,
        "disabled": account.disabled_at is not None,
        "created_at": as_utc(account.created_at).isoformat(timespec="seconds"),
    }


def _account(user_id: int) -> User:
    account = db.session.get(User, user_id) if user_id <= MAX_ID else None
    if account is None:
        abort(404)
    return account


@bp.get("/users")
@admin_only(LIST_USERS)
@documented(
    "Accounts, 20 a page, oldest first; q finds addresses that contain it",
    responses={200: ("A page of accounts.", api_schemas.AdminUserPage), 403: REFUSED},
    query=(
        {
            "name": "q",
            "in": "query",
            "required": False,
            "schema": {"type": "string"},
            "description": f"Part of the address, in any letter case; past {MAX_QUERY_LENGTH} "
            "characters, ignored.",
        },
        {
            "name": "page",
            "in": "query",
            "required": False,
            "schema": {"type": "integer", "minimum": 1, "default": 1},
            "description": "Past the last page, an empty list.",
        },
    ),
)
def users():
    query = request.args.get("q", "").strip()[:MAX_QUERY_LENGTH]
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    statement = select(User).order_by(User.id)
    if query:
        # Addresses are stored in lower case; % and _ match themselves.
        statement = statement.where(User.email.contains(query.lower(), autoescape=True))
    found = db.paginate(statement, page=page, per_page=PER_PAGE, error_out=False)
    # Reads are logged too: who looked through the accounts, and how.
    current_app.logger.info(
        "admin read: accounts listed",
        extra={"event": "admin_read", "admin_id": g.user.id, "page": page, "search": bool(query)},
    )
    return jsonify(
        users=[_as_json(account) for account in found.items],
        page=found.page,
        pages=found.pages,
        total=found.total,
    )


@bp.get("/users/<int:user_id>")
@admin_only(LIST_USERS)
@documented(
    "One account",
    responses={
        200: ("The account.", api_schemas.AdminUser),
        403: REFUSED,
        404: ("No such account.", api_schemas.Problem),
    },
)
def user(user_id: int):
    account = _account(user_id)
    current_app.logger.info(
        "admin read: one account",
        extra={"event": "admin_read", "admin_id": g.user.id, "user_id": account.id},
    )
    return jsonify(_as_json(account))


@bp.post("/users/<int:user_id>/disable")
@admin_only(DISABLE_USERS)
@documented(
    "Disable an account: it cannot log in, and every token of it ends",
    responses={
        200: ("Disabled (or already so).", api_schemas.AdminUser),
        403: REFUSED,
        404: ("No such account.", api_schemas.Problem),
        409: ("An admin cannot disable their own account.", api_schemas.Problem),
    },
)
def disable(user_id: int):
    account = _account(user_id)
    if account.id == g.user.id:
        return error("You cannot disable your own account.", 409)
    if account.disabled_at is None:
        account.disable()
        _done(account, "account_disabled", "account disabled; its tokens ended")
    return jsonify(_as_json(account))


@bp.post("/users/<int:user_id>/enable")
@admin_only(DISABLE_USERS)
@documented(
    "Enable a disabled account again",
    responses={
        200: ("Enabled (or already so).", api_schemas.AdminUser),
        403: REFUSED,
        404: ("No such account.", api_schemas.Problem),
    },
)
def enable(user_id: int):
    account = _account(user_id)
    if account.disabled_at is not None:
        account.disabled_at = None
        _done(account, "account_enabled", "account enabled")
    return jsonify(_as_json(account))


@bp.post("/users/<int:user_id>/end-sessions")
@admin_only(END_USER_SESSIONS)
@documented(
    "End every log-in of an account: its access and refresh tokens stop working",
    responses={
        204: ("Every token of the account ended (the caller's too, if it is theirs).", None),
        403: REFUSED,
        404: ("No such account.", api_schemas.Problem),
    },
)
def end_sessions(user_id: int):
    account = _account(user_id)
    account.end_all_log_ins()
    _done(account, "sessions_ended_by_admin", "every log-in of the account ended")
    return "", 204


def _done(account: User, kind: str, message: str) -> None:
    record(account.id, kind)
    db.session.commit()
    current_app.logger.info(
        f"admin action: {message}",
        extra={
            "event": "admin_action",
            "action": kind,
            "admin_id": g.user.id,
            "user_id": account.id,
        },
    )
