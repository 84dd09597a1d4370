"""Roles, and what each may do.

Roles are data: ROLES maps each to its permissions, so a new role (an
"editor", a "support" desk) is a new entry here, not new checks in views.
Every check goes through `allowed`, and admin API views say what they need
with `@api_admin.admin_only(...)`; the admin API refuses any view that does
not say: deny by default.
"""

from __future__ import annotations

from typing import Any

USER = "user"
ADMIN = "admin"

LIST_USERS = "users.list"
DISABLE_USERS = "users.disable"
END_USER_SESSIONS = "users.end_sessions"

ROLES: dict[str, frozenset[str]] = {
    USER: frozenset(),
    ADMIN: frozenset({LIST_USERS, DISABLE_USERS, END_USER_SESSIONS}),
}
# Roles that open the admin API, which also ask for two-factor log-in.
STAFF = frozenset(role for role, permissions in ROLES.items() if permissions)


def allowed(user: Any, permission: str) -> bool:
    """Whether USER (an account with a valid access token, or None) holds
    PERMISSION through its role."""
    if user is None:
        return False
    return permission in ROLES.get(user.role, frozenset())
