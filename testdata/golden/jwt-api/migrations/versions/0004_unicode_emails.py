"""Store every address in Unicode NFC, so one address has one account.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-04 00:00:00

An address typed with a decomposed accent ("e" and a combining acute) and
the same address with the composed letter look alike but were stored as two
different strings, so each could hold an account; so could a domain written
in "xn--" form or with full-width letters. The app now stores and looks up
every address as the validator writes it, in lower case and NFC; this
rewrites the addresses made before. If two accounts would end up with one
address, nothing is changed and the migration stops, naming their ids:
which one to keep is the operator's decision (delete or rename the other,
then migrate again).
(There is no revision 0003 here: projects with session log-in use it.)
"""

import unicodedata
from contextlib import suppress

import sqlalchemy as sa
from alembic import op
from email_validator import EmailNotValidError, validate_email

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("email", sa.String))


def normalized(email: str) -> str:
    # The app's normalize_email as of this revision.
    email = email.strip()
    with suppress(EmailNotValidError):
        email = validate_email(email, check_deliverability=False).normalized
    return unicodedata.normalize("NFC", email.lower())


def upgrade():
    connection = op.get_bind()
    # Only addresses that are not already NFC in lower case change (rare:
    # typed with decomposed letters); everything else is read once.
    changes = [
        (user_id, normalized(email))
        for user_id, email in connection.execute(sa.select(users.c.id, users.c.email))
        if normalized(email) != email
    ]
    groups: dict[str, set[int]] = {}
    for user_id, email in changes:
        groups.setdefault(email, set()).add(user_id)
        # Any other row the database finds equal (its collation may ignore
        # accents) would break the unique index once this one is rewritten.
        for (other,) in connection.execute(sa.select(users.c.id).where(users.c.email == email)):
            if other != user_id:
                groups[email].add(other)
    twins = sorted(sorted(ids) for ids in groups.values() if len(ids) > 1)
    if twins:
        listed = "; ".join(", ".join(str(user_id) for user_id in group) for group in twins)
        raise RuntimeError(
            "these accounts have one address once it is normalized (ids: "
            f"{listed}); delete or change all but one of each group, then migrate again"
        )
    for user_id, email in changes:
        connection.execute(sa.update(users).where(users.c.id == user_id).values(email=email))


def downgrade():
    # The old code finds an NFC address as typed in NFC, so nothing to undo.
    pass
