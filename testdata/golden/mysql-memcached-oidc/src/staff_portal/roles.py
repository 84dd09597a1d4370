"""Roles, and what each may do.

Roles are data: ROLES maps each to its permissions, so a new role (an
"editor", a "support" desk) is a new entry here, not new checks in views.
Every check goes through `allowed`, and views say what they need with
`@requires(...)`. The admin pages (admin.py) refuse any view that does not
say: deny by default.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort
from flask_login import current_user

from .extensions import login_manager

USER = "user"
ADMIN = "admin"

LIST_USERS = "users.list"
DISABLE_USERS = "users.disable"
END_USER_SESSIONS = "users.end_sessions"

ROLES: dict[str, frozenset[str]] = {
    USER: frozenset(),
    ADMIN: frozenset({LIST_USERS, DISABLE_USERS, END_USER_SESSIONS}),
}
# Roles that open the admin pages, which also ask for two-factor log-in.
STAFF = frozenset(role for role, permissions in ROLES.items() if permissions)

View = TypeVar("View", bound=Callable[..., Any])


def allowed(user: Any, permission: str) -> bool:
    """Whether USER (signed in, enabled) holds PERMISSION through its role."""
    if not getattr(user, "is_authenticated", False):
        return False
    return permission in ROLES.get(user.role, frozenset())


def requires(permission: str) -> Callable[[View], View]:
    """The view needs PERMISSION: anonymous visitors are sent to log in,
    signed-in users without it get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not allowed(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        checked.required_permission = permission  # type: ignore[attr-defined]
        return checked  # type: ignore[return-value]

    return decorate
