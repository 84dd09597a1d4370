"""Never reuse a user or token id; bind tokens to a random auth_key per account.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 00:00:00

SQLite hands the id of the newest deleted row to the next one unless the
table is declared AUTOINCREMENT, which only CREATE TABLE can do: there both
tables are rebuilt. PostgreSQL sequences and MySQL/MariaDB AUTO_INCREMENT do
not reuse ids, so elsewhere only the columns are added. Refresh tokens whose
user is gone (SQLite did not enforce the foreign key) are deleted: their
user id may already belong to someone else.
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("auth_key", sa.String))
refresh_tokens = sa.table(
    "refresh_tokens", sa.column("user_id", sa.Integer), sa.column("auth_key", sa.String)
)


def _give_every_user_an_auth_key():
    connection = op.get_bind()
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            sa.update(users).where(users.c.id == user_id).values(auth_key=secrets.token_urlsafe(32))
        )


def _bind_refresh_tokens_to_their_users():
    owner_key = (
        sa.select(users.c.auth_key).where(users.c.id == refresh_tokens.c.user_id).scalar_subquery()
    )
    op.execute(sa.update(refresh_tokens).values(auth_key=owner_key))
    op.execute(sa.delete(refresh_tokens).where(refresh_tokens.c.auth_key.is_(None)))


def _rebuild_on_sqlite():
    return "always" if op.get_bind().dialect.name == "sqlite" else "auto"


def upgrade():
    op.add_column("users", sa.Column("auth_key", sa.String(length=64), nullable=True))
    op.add_column("refresh_tokens", sa.Column("auth_key", sa.String(length=64), nullable=True))
    _give_every_user_an_auth_key()
    _bind_refresh_tokens_to_their_users()
    for table in ("users", "refresh_tokens"):
        with op.batch_alter_table(
            table, recreate=_rebuild_on_sqlite(), table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            batch.alter_column("auth_key", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    # Ids stay unique on SQLite: reusing them again would help nobody.
    for table in ("refresh_tokens", "users"):
        with op.batch_alter_table(table, table_kwargs={"sqlite_autoincrement": True}) as batch:
            batch.drop_column("auth_key")
