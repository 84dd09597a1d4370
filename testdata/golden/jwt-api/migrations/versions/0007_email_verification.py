"""Record when an account's address was confirmed.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 00:00:00

Accounts made before confirmation existed count as confirmed from their
creation: they could get tokens yesterday and still can. (Revision 0006 is
not here: projects with session log-in use it.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    users = sa.table(
        "users",
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("email_verified_at", sa.DateTime(timezone=True)),
    )
    op.execute(sa.update(users).values(email_verified_at=users.c.created_at))


def downgrade():
    # SQLite drops a column by rebuilding the table, which must stay AUTOINCREMENT (0002).
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("email_verified_at")
