"""Roles and disabled accounts: every account gets the role "user" (there
is no default admin; `flask users create --admin` makes one), and none is
disabled.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 00:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("role", sa.String(length=20), server_default="user", nullable=False)
        )
        batch.add_column(sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Dropping a column rebuilds the table on SQLite: keep AUTOINCREMENT (0002).
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("role")
