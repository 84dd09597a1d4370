"""Never reuse a user id; bind sessions to a random auth_key per account.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:00:00

SQLite hands the id of the newest deleted row to the next one unless the
table is declared AUTOINCREMENT, which only CREATE TABLE can do: there the
table is rebuilt. PostgreSQL sequences and MySQL/MariaDB AUTO_INCREMENT do
not reuse ids, so elsewhere only the column is added.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _give_every_user_an_auth_key():
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("auth_key", sa.String))
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            sa.update(users).where(users.c.id == user_id).values(auth_key=secrets.token_urlsafe(32))
        )


def _rebuild_on_sqlite():
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    op.add_column("users", sa.Column("auth_key", sa.String(length=64), nullable=True))
    _give_every_user_an_auth_key()
    with op.batch_alter_table(
        "users", recreate=_rebuild_on_sqlite(), table_kwargs={"sqlite_autoincrement": True}
    ) as batch:
        batch.alter_column("auth_key", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    # Ids stay unique on SQLite: reusing them again would help nobody.
    with op.batch_alter_table("users", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("auth_key")
