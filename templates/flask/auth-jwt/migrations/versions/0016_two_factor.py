"""Two-factor log-in: an encrypted TOTP secret and the last accepted time
step per account, and single-use recovery codes (stored as digests).

Revision ID: 0016
Revises: 0013
Create Date: 2026-12-06 00:00:00

(Revisions 0014 and 0015 belong to projects with other log-in choices.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("totp_secret", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_recovery_codes_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("user_id", "digest", name=op.f("uq_recovery_codes_user_id")),
        sqlite_autoincrement=True,
    )


def downgrade():
    op.drop_table("recovery_codes")
    # Dropping a column rebuilds the table on SQLite: keep AUTOINCREMENT (0002).
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_secret")
