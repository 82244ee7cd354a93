"""applications as a resource; payload_format, uid, metadata, channels on endpoints;
channels and tags on messages (the Svix-compatible API)

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("metadata", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rate_limit", sa.Integer(), nullable=True))
        batch.add_column(_time("updated_at"))
        batch.add_column(_time("deleted_at"))
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(
            sa.Column(
                "payload_format", sa.String(length=16), server_default="envelope", nullable=False
            )
        )
        batch.add_column(sa.Column("uid", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("metadata", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("channels", sa.JSON(), nullable=True))
    # A unique index, not a constraint: SQLite adds it without rebuilding the table,
    # which other tables' foreign keys point at.
    op.create_index("ix_endpoints_app_id_uid", "endpoints", ["app_id", "uid"], unique=True)
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("channels", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("tags", sa.JSON(), nullable=True))


def downgrade() -> None:
    # recreate="never": SQLite drops the columns in place (ALTER TABLE … DROP COLUMN)
    # rather than rebuilding tables that other tables' foreign keys point at.
    op.drop_index("ix_endpoints_app_id_uid", table_name="endpoints")
    with op.batch_alter_table("messages", recreate="never") as batch:
        batch.drop_column("tags")
        batch.drop_column("channels")
    with op.batch_alter_table("endpoints", recreate="never") as batch:
        for name in ("channels", "metadata", "uid", "payload_format"):
            batch.drop_column(name)
    with op.batch_alter_table("applications", recreate="never") as batch:
        for name in ("deleted_at", "updated_at", "rate_limit", "metadata"):
            batch.drop_column(name)
