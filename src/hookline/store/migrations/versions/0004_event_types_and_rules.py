"""event catalog (event_types) and trigger rules on endpoints

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hookline.store.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_types",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=True),
        sa.Column("example", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("archived_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_event_types_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_types")),
        sa.UniqueConstraint("account_id", "name", name=op.f("uq_event_types_account_id_name")),
    )
    with op.batch_alter_table("event_types", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_event_types_account_id_id"), ["account_id", "id"], unique=False
        )
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("rules")
    with op.batch_alter_table("event_types", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_types_account_id_id"))
    op.drop_table("event_types")
