"""Where call results go: each consumer's webhook URLs are endpoints of a dedicated
``gateway`` application of the consumer's account. Keeping them out of the default
application keeps them out of ``GET /v1/webhooks`` and out of event fan-out, while the
delivery engine treats them like any other endpoint (retries, logs, replay)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from hookline.domain.models import EndpointStatus
from hookline.domain.signing import Scheme
from hookline.store.tables import applications, endpoints

GATEWAY_APP_UID = "gateway"


async def gateway_app_id(
    conn: AsyncConnection, account_id: str, new_id: Callable[[str], str], now: datetime
) -> str:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    await conn.execute(
        insert(applications)
        .values(
            id=new_id("app"),
            account_id=account_id,
            uid=GATEWAY_APP_UID,
            name="gateway results",
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["account_id", "uid"])
    )
    value = (
        await conn.execute(
            sa.select(applications.c.id).where(
                applications.c.account_id == account_id, applications.c.uid == GATEWAY_APP_UID
            )
        )
    ).scalar_one()
    return str(value)


async def find_endpoint(conn: AsyncConnection, account_id: str, url: str) -> str | None:
    """The active gateway endpoint of this account for ``url``, if there is one."""
    found = (
        await conn.execute(
            sa.select(endpoints.c.id)
            .join(applications, applications.c.id == endpoints.c.app_id)
            .where(
                applications.c.account_id == account_id,
                applications.c.uid == GATEWAY_APP_UID,
                endpoints.c.url == url,
                endpoints.c.status == EndpointStatus.ACTIVE.value,
            )
            .order_by(endpoints.c.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return str(found) if found is not None else None


async def create_endpoint(
    conn: AsyncConnection,
    account_id: str,
    url: str,
    secret: str,
    new_id: Callable[[str], str],
    now: datetime,
) -> str:
    """A new gateway endpoint for ``url`` signing with ``secret``; returns its id."""
    app_id = await gateway_app_id(conn, account_id, new_id, now)
    endpoint_id = new_id("ep")
    await conn.execute(
        endpoints.insert().values(
            id=endpoint_id,
            account_id=account_id,
            app_id=app_id,
            url=url,
            description="results of async API calls",
            event_types=None,
            secret=secret,
            previous_secret=None,
            previous_secret_expires_at=None,
            signature_scheme=Scheme.STANDARD.value,
            signature_header=None,
            retry_policy=None,
            headers={},
            status=EndpointStatus.ACTIVE.value,
            disabled_reason=None,
            failure_count=0,
            first_failure_at=None,
            last_failure_at=None,
            created_at=now,
            updated_at=now,
        )
    )
    return endpoint_id


async def rotate_gateway_secrets(
    conn: AsyncConnection, account_id: str, secret: str, grace_until: datetime, now: datetime
) -> None:
    """Sign results with a new secret; the old one keeps signing alongside until
    ``grace_until``."""
    app = sa.select(applications.c.id).where(
        applications.c.account_id == account_id, applications.c.uid == GATEWAY_APP_UID
    )
    await conn.execute(
        endpoints.update()
        .where(endpoints.c.app_id.in_(app))
        .values(
            previous_secret=endpoints.c.secret,
            previous_secret_expires_at=grace_until,
            secret=secret,
            updated_at=now,
        )
    )
