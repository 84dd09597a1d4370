"""Notes (note_model.py): the example of data that belongs to one account.

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-06 00:00:00

(Projects with password log-in made this table earlier, as revision 0012;
revisions 0016 to 0018 belong to projects with the JSON API.)
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notes")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_notes_user_id_users"), ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_notes_user_id"), "notes", ["user_id"])


def downgrade():
    # Its index goes with it (MySQL refuses to drop an index a foreign key uses).
    op.drop_table("notes")
