"""calls: deadlines, webhook choice, upstream attempts, retention; per-call event log;
an API's retry_on

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hookline.store.tables

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hookline.store.tables.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_at", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("webhook_events", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("progress_sent_at", UTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("upstream_attempts", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("result_expunged_at", UTC(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_calls_status_cancel_at"), ["status", "cancel_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_calls_completed_at"), ["completed_at"], unique=False)
    with op.batch_alter_table("apis", schema=None) as batch_op:
        batch_op.add_column(sa.Column("retry_on", sa.Text(), nullable=True))
    op.create_table(
        "call_events",
        sa.Column("call_id", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_call_events_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("call_id", "seq", name=op.f("pk_call_events")),
    )


def downgrade() -> None:
    op.drop_table("call_events")
    with op.batch_alter_table("apis", schema=None) as batch_op:
        batch_op.drop_column("retry_on")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_completed_at"))
        batch_op.drop_index(batch_op.f("ix_calls_status_cancel_at"))
        batch_op.drop_column("result_expunged_at")
        batch_op.drop_column("upstream_attempts")
        batch_op.drop_column("progress_sent_at")
        batch_op.drop_column("webhook_events")
        batch_op.drop_column("cancel_at")
