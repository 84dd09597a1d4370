"""Keep a list of security events per account, shown to its owner.

Revision ID: 0009
Revises: 0002
Create Date: 2026-12-05 00:00:00

(Revisions 0003 to 0008 belong to projects with password log-in.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "security_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("client", sa.String(length=45), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_security_events")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_security_events_user_id_users"),
            ondelete="CASCADE",
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_security_events_user_id"), "security_events", ["user_id"])


def downgrade():
    # Its index goes with it (MySQL refuses to drop an index a foreign key uses).
    op.drop_table("security_events")
