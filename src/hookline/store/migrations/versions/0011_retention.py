"""retention and scheduled delivery: events may carry deliver_at; indexes the purge
walks (finished deliveries by age, attempts by request body)

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hookline.store.tables

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hookline.store.tables.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("deliver_at", UTC(timezone=True), nullable=True))
    op.create_index(
        "ix_deliveries_status_updated_at", "deliveries", ["status", "updated_at"], unique=False
    )
    op.create_index(
        "ix_attempts_request_body_sha256", "attempts", ["request_body_sha256"], unique=False
    )
    op.create_index(
        "ix_idempotency_keys_message_id", "idempotency_keys", ["message_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_idempotency_keys_message_id", table_name="idempotency_keys")
    op.drop_index("ix_attempts_request_body_sha256", table_name="attempts")
    op.drop_index("ix_deliveries_status_updated_at", table_name="deliveries")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("deliver_at")
