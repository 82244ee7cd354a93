"""Sealing what is stored unsealed, re-sealing under a new key, and checking at start
that the configured keys open what is stored.

Every value is read through the sealed column types (opened with any configured key,
or taken as it is when marked ``plain:``) and written back (sealed with the newest
key), in batches, each batch one transaction holding its rows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from hookline.store.database import Database
from hookline.store.sealing import LEGACY, SEALED
from hookline.store.tables import attempts, endpoints, wallets

BATCH = 500


def _raw(column: sa.ColumnElement[Any]) -> sa.ColumnElement[str]:
    """The stored text of a sealed column, as it is (no opening, no sealing)."""
    return sa.cast(sa.type_coerce(column, sa.Text()), sa.Text())


def _marked(column: sa.ColumnElement[Any], prefix: str) -> sa.ColumnElement[bool]:
    # A JSON column's text starts with the quote of its JSON string.
    quote = '"' if column.name in ("headers", "request_headers") else ""
    return _raw(column).like(quote + prefix + "%")


class SecretRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def seal_legacy(self) -> int:
        """Seal every value still marked ``plain:``; returns how many rows changed."""
        legacy_endpoint = sa.or_(
            _marked(endpoints.c.secret, LEGACY),
            _marked(endpoints.c.previous_secret, LEGACY),
            _marked(endpoints.c.headers, LEGACY),
        )
        # Attempts' request headers were stored as plain JSON arrays before sealing.
        legacy_attempt = _raw(attempts.c.request_headers).like("[%")
        return await self._reseal(
            legacy_endpoint, _marked(wallets.c.signing_secret, LEGACY), legacy_attempt
        )

    async def reseal_all(self) -> int:
        """Seal every stored secret again with the newest key; returns the rows written."""
        stored = _raw(attempts.c.request_headers)  # not SQL NULL nor JSON null
        return await self._reseal(
            sa.true(), sa.true(), sa.or_(stored.like("[%"), stored.like('"%'))
        )

    async def check_readable(self) -> None:
        """Open one sealed value of each kind; raises ``SecretsUnreadable`` when the
        configured keys do not open what is stored."""
        async with self.db.read() as conn:
            for column in (endpoints.c.secret, wallets.c.signing_secret):
                stmt = sa.select(column).where(_marked(column, SEALED)).limit(1)
                (await conn.execute(stmt)).first()

    async def _reseal(self, endpoint_filter: Any, wallet_filter: Any, attempt_filter: Any) -> int:
        changed = 0
        columns = (endpoints.c.secret, endpoints.c.previous_secret, endpoints.c.headers)
        changed += await self._reseal_table(endpoints, endpoints.c.id, columns, endpoint_filter)
        changed += await self._reseal_table(
            wallets, wallets.c.account_id, (wallets.c.signing_secret,), wallet_filter
        )
        changed += await self._reseal_table(
            attempts, attempts.c.id, (attempts.c.request_headers,), attempt_filter
        )
        return changed

    async def _reseal_table(
        self,
        table: sa.Table,
        key: sa.Column[str],
        columns: tuple[sa.Column[Any], ...],
        where: Any,
    ) -> int:
        changed, after = 0, ""
        while True:
            async with self.db.write() as conn:
                rows = (
                    await conn.execute(
                        sa.select(key, *columns)
                        .where(where, key > after)
                        .order_by(key)
                        .limit(BATCH)
                        .with_for_update()
                    )
                ).all()
                for row in rows:
                    values = {c.name: row._mapping[c.name] for c in columns}
                    await conn.execute(table.update().where(key == row[0]).values(**values))
            if not rows:
                return changed
            changed += len(rows)
            after = rows[-1][0]
