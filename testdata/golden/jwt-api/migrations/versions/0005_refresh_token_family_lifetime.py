"""Give every refresh token the end of the log-in it descends from.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 00:00:00

Each refresh gave the next token a fresh JWT_REFRESH_DAYS, so a family kept
in use never ended. Now every token of a log-in ends JWT_SESSION_DAYS after
it. The start of a family issued before is not known: its end is set to its
token's own expiry, so it ends within JWT_REFRESH_DAYS and the next log-in
starts a bounded one.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

refresh_tokens = sa.table(
    "refresh_tokens",
    sa.column("expires_at", sa.DateTime(timezone=True)),
    sa.column("family_expires_at", sa.DateTime(timezone=True)),
)


def _rebuild_on_sqlite():
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    op.add_column(
        "refresh_tokens",
        sa.Column("family_expires_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(sa.update(refresh_tokens).values(family_expires_at=refresh_tokens.c.expires_at))
    with op.batch_alter_table(
        "refresh_tokens", recreate=_rebuild_on_sqlite(), table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column(
            "family_expires_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )


def downgrade():
    with op.batch_alter_table(
        "refresh_tokens", table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.drop_column("family_expires_at")
