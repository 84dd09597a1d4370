"""Roles and a second factor, as the identity provider vouches for them.

The provider, not this app, knows who is an admin: OIDC_ROLES maps values of
the ID token's OIDC_ROLES_CLAIM (a list of groups, most often) to roles of
roles.ROLES, and each log-in sets the account's role afresh, so a person
removed from the group at the provider is an ordinary user from their next
log-in on. Nobody is an admin until OIDC_ROLES names a group.

The admin pages also want a second factor. The provider says how the person
authenticated in the ID token's `amr` claim (RFC 8176); a log-in counts as
multi-factor when it names one of OIDC_MFA_AMR ("mfa" by default).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import session

from .roles import ROLES, USER

# Whether this session's log-in showed a second factor (set at the callback).
LOGIN_MFA_KEY = "login_mfa"
MAX_CLAIM_VALUES = 1000


def parse_role_map(text: str) -> dict[str, str]:
    """OIDC_ROLES: comma-separated GROUP=ROLE pairs, such as
    "app-admins=admin". ValueError names what is wrong."""
    mapping: dict[str, str] = {}
    for pair in text.split(","):
        if not pair.strip():
            continue
        group, sep, role = (part.strip() for part in pair.partition("="))
        if not sep or not group or not role:
            raise ValueError(f"each entry must be GROUP=ROLE; got {pair.strip()!r}")
        if role not in ROLES:
            raise ValueError(f"{role!r} is not a role; roles are {', '.join(sorted(ROLES))}")
        if mapping.get(group, role) != role:
            raise ValueError(f"{group!r} is mapped to two roles")
        mapping[group] = role
    return mapping


def claim_values(claims: Mapping[str, Any], name: str) -> list[str]:
    """The claim as a list of strings: a JSON list, or one string (some
    providers send a single group as a string). Anything else is nothing."""
    value = claims.get(name)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value[:MAX_CLAIM_VALUES] if isinstance(item, str)]
    return []


def role_from(claims: Mapping[str, Any], claim: str, role_map: Mapping[str, str]) -> str:
    """The role the provider's claims give: of the mapped groups the person
    is in, the role with the most permissions (ties by name); else USER."""
    roles = {role_map[group] for group in claim_values(claims, claim) if group in role_map}
    if not roles:
        return USER
    return max(sorted(roles), key=lambda role: len(ROLES[role]))


def multi_factor(claims: Mapping[str, Any], accepted: Iterable[str]) -> bool:
    """Whether the ID token's amr names one of the ACCEPTED methods."""
    return bool(set(claim_values(claims, "amr")) & set(accepted))


def multi_factor_login() -> bool:
    """Whether this session's log-in was multi-factor (by the provider's word)."""
    return session.get(LOGIN_MFA_KEY) is True
