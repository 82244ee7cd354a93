"""delivery operations: held and test deliveries, searchable deliveries, the exact
request of every attempt, background re-queues

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hookline.store.tables

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.add_column(sa.Column("secret_headers", sa.JSON(), nullable=True))

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_type", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("test", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Existing deliveries take their message's type; set-based, one statement.
    op.execute(
        "UPDATE deliveries SET event_type = "
        "(SELECT messages.event_type FROM messages WHERE messages.id = deliveries.message_id)"
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("event_type", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column("test", existing_type=sa.Boolean(), server_default=None)
        batch_op.create_index(
            batch_op.f("ix_deliveries_account_id_id"), ["account_id", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deliveries_account_id_status_id"),
            ["account_id", "status", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_deliveries_account_id_event_type_id"),
            ["account_id", "event_type", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_deliveries_endpoint_id_status_id"),
            ["endpoint_id", "status", "id"],
            unique=False,
        )

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_method", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("request_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("request_headers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("request_body_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("response_headers", sa.JSON(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_attempts_endpoint_id_id"), ["endpoint_id", "id"], unique=False
        )

    op.create_table(
        "request_bodies",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_request_bodies")),
    )
    op.create_table(
        "requeue_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("expected", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column(
            "lease_expires_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", hookline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_requeue_jobs_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_requeue_jobs")),
    )
    with op.batch_alter_table("requeue_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_requeue_jobs_status_lease_expires_at"),
            ["status", "lease_expires_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_requeue_jobs_account_id_id"), ["account_id", "id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("requeue_jobs")
    op.drop_table("request_bodies")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attempts_endpoint_id_id"))
        for column in (
            "response_headers",
            "request_body_sha256",
            "request_headers",
            "request_url",
            "request_method",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        for index in (
            "ix_deliveries_endpoint_id_status_id",
            "ix_deliveries_account_id_event_type_id",
            "ix_deliveries_account_id_status_id",
            "ix_deliveries_account_id_id",
        ):
            batch_op.drop_index(index)
        batch_op.drop_column("test")
        batch_op.drop_column("event_type")
    with op.batch_alter_table("endpoints", schema=None) as batch_op:
        batch_op.drop_column("secret_headers")
