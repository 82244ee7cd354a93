"""Reading delivery logs and sending a delivery again."""

from __future__ import annotations

from hookline.domain.models import Attempt, Delivery, DeliveryStatus, EndpointStatus, Page
from hookline.errors import Conflict, NotFound
from hookline.services.common import Context
from hookline.store.deliveries import DeliveryRepository
from hookline.store.endpoints import EndpointRepository


class DeliveryService:
    def __init__(
        self, deliveries: DeliveryRepository, endpoints: EndpointRepository, ctx: Context
    ) -> None:
        self.deliveries = deliveries
        self.endpoints = endpoints
        self.ctx = ctx

    async def get(self, account_id: str, delivery_id: str) -> tuple[Delivery, list[Attempt]]:
        delivery = await self.deliveries.get(account_id, delivery_id)
        if delivery is None:
            raise NotFound("delivery")
        attempts = await self.deliveries.attempts_for([delivery_id])
        return delivery, attempts[delivery_id]

    async def list_for_webhook(
        self,
        account_id: str,
        webhook_id: str,
        *,
        status: DeliveryStatus | None,
        cursor: str | None,
        limit: int,
    ) -> tuple[Page[Delivery], dict[str, list[Attempt]]]:
        if await self.endpoints.get(account_id, webhook_id) is None:
            raise NotFound("webhook")
        page = await self.deliveries.list_for_endpoint(
            account_id, webhook_id, status=status, cursor=cursor, limit=limit
        )
        attempts = await self.deliveries.attempts_for([d.id for d in page.items])
        return page, attempts

    async def retry(self, account_id: str, delivery_id: str) -> Delivery:
        """Send a finished delivery once more, now (a manual attempt)."""
        delivery = await self.deliveries.get(account_id, delivery_id)
        if delivery is None:
            raise NotFound("delivery")
        endpoint = await self.endpoints.get(account_id, delivery.endpoint_id)
        if endpoint is None or endpoint.status is not EndpointStatus.ACTIVE:
            raise Conflict(
                "the webhook is not active; re-enable it first", code="webhook_not_active"
            )
        scheduled = await self.deliveries.schedule_manual(account_id, delivery_id, self.ctx.now())
        if scheduled is None:
            raise NotFound("delivery")
        changed, updated = scheduled
        if not changed:
            raise Conflict(
                f"the delivery is {updated.status.value}; only a finished one can be retried",
                code="delivery_in_progress",
            )
        self.ctx.notifier.notify()
        return updated
