"""Store the scopes each refresh token's log-in was granted.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 00:00:00

Tokens issued before scopes existed could do everything the API offered:
they keep exactly that, the three scopes of this revision, written out here
rather than read from tokens.SCOPES, which later versions may extend.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

SCOPES_BEFORE = "account notes:read notes:write"

refresh_tokens = sa.table("refresh_tokens", sa.column("scope", sa.String(500)))


def _rebuild_on_sqlite():
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    op.add_column("refresh_tokens", sa.Column("scope", sa.String(length=500), nullable=True))
    op.execute(sa.update(refresh_tokens).values(scope=SCOPES_BEFORE))
    with op.batch_alter_table(
        "refresh_tokens", recreate=_rebuild_on_sqlite(), table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column("scope", existing_type=sa.String(length=500), nullable=False)


def downgrade():
    with op.batch_alter_table(
        "refresh_tokens", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_column("scope")
