"""the web console and the portal: browser sessions, one-time portal tokens, and each
account's portal branding

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hookline.store.tables

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = hookline.store.tables.UTCDateTime


def _id() -> sa.Column[str]:
    return sa.Column("id", sa.String(length=40), nullable=False)


def _ref(name: str, nullable: bool) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=40), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        _ref("account_id", True),
        _ref("app_id", True),
        sa.Column("key_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_console_sessions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["applications.id"], name=op.f("fk_console_sessions_app_id_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_console_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_console_sessions_expires_at"), "console_sessions", ["expires_at"], unique=False
    )
    op.create_table(
        "portal_tokens",
        _id(),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _ref("account_id", False),
        _ref("app_id", False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("expires_at", UTC(timezone=True), nullable=False),
        sa.Column("used_at", UTC(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_portal_tokens_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["app_id"], ["applications.id"], name=op.f("fk_portal_tokens_app_id_applications")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_portal_tokens_expires_at"), "portal_tokens", ["expires_at"], unique=False
    )
    op.create_table(
        "account_branding",
        sa.Column("account_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("logo_url", sa.Text(), nullable=True),
        sa.Column("accent_color", sa.String(length=7), nullable=True),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_account_branding_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_account_branding")),
    )


def downgrade() -> None:
    op.drop_table("account_branding")
    op.drop_index(op.f("ix_portal_tokens_expires_at"), table_name="portal_tokens")
    op.drop_table("portal_tokens")
    op.drop_index(op.f("ix_console_sessions_expires_at"), table_name="console_sessions")
    op.drop_table("console_sessions")
