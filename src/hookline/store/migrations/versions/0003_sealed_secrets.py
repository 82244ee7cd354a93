"""sealed secrets: mark existing plaintext secrets and header values for sealing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:20:00

A migration cannot seal: the key may be one generated at start into the data directory,
after migrations ran. So this marks every existing secret and custom-header document
``plain:`` (readable as before), and the next ``hookline serve`` or ``worker`` start
(or ``hookline secrets rotate-key``) seals the marked values with the configured key.
On PostgreSQL the secret columns become ``text``: a sealed secret is longer than the
300 characters they allowed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SECRET_COLUMNS = (
    ("endpoints", "secret"),
    ("endpoints", "previous_secret"),
    ("wallets", "signing_secret"),
)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, column in SECRET_COLUMNS:
        if postgres:
            op.alter_column(table, column, type_=sa.Text(), existing_type=sa.String(300))
        # NULL stays NULL: NULL || 'x' is NULL on both backends.
        op.execute(f"UPDATE {table} SET {column} = 'plain:' || {column}")  # noqa: S608
    # headers become a JSON string: the document's text behind the same marker.
    if postgres:
        op.execute("UPDATE endpoints SET headers = to_json('plain:' || headers::text)")
    else:
        op.execute("UPDATE endpoints SET headers = json_quote('plain:' || headers)")


def downgrade() -> None:
    """Only while nothing is sealed yet (a migration has no key to open sealed values)."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    for table, column in SECRET_COLUMNS:
        sealed = bind.execute(
            sa.text(f"SELECT count(*) FROM {table} WHERE {column} LIKE 'fernet:%'")  # noqa: S608
        ).scalar()
        if sealed:
            raise NotImplementedError(
                "sealed secrets cannot be unsealed by a migration; "
                "restore a backup taken before 0003"
            )
    for table, column in SECRET_COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = substr({column}, 7)")  # noqa: S608
        if postgres:
            op.alter_column(table, column, type_=sa.String(300), existing_type=sa.Text())
    if postgres:
        op.execute("UPDATE endpoints SET headers = substr(headers #>> '{}', 7)::json")
    else:
        op.execute("UPDATE endpoints SET headers = substr(json_extract(headers, '$'), 7)")
