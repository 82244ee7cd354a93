"""delivery control: per-webhook rate limit, FIFO ordering, timeout and circuit breaker

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hookline.store.tables import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("rate_limit", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("ordering", sa.String(length=16), server_default="unordered", nullable=False)
        )
        batch.add_column(sa.Column("timeout", sa.Float(), nullable=True))
        batch.add_column(
            sa.Column("circuit", sa.String(length=16), server_default="closed", nullable=False)
        )
        batch.add_column(sa.Column("send_after", UTCDateTime(), nullable=True))
        batch.add_column(
            sa.Column("controlled", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index("ix_endpoints_controlled_send_after", ["controlled", "send_after"])


def downgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.drop_index("ix_endpoints_controlled_send_after")
        for column in ("controlled", "send_after", "circuit", "timeout", "ordering", "rate_limit"):
            batch.drop_column(column)
