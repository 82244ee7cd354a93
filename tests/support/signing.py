"""Ed25519 (v1a) test helpers: publish and take the delivery, check it as a receiver
would, and end a rotation's grace period."""

from __future__ import annotations

import base64
import dataclasses
from datetime import timedelta

import httpx
import sqlalchemy as sa
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.support.receiver import Received, Receiver
from tests.support.server import Running, settled


def v1a_valid(public_key: str, got: Received, body: bytes | None = None) -> bool:
    """A receiver's own check, written from the cryptography package's documentation."""
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key.removeprefix("whpk_")))
    signed = f"{got.headers['webhook-id']}.{got.headers['webhook-timestamp']}.".encode()
    signed += got.body if body is None else body
    for entry in got.headers["webhook-signature"].split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1a":
            try:
                key.verify(base64.b64decode(signature), signed)
            except InvalidSignature:
                continue
            return True
    return False


async def deliver(client: httpx.AsyncClient, receiver: Receiver, n: int) -> Received:
    """Publish one event and return the request the receiver got for it."""
    r = await client.post("/v1/events", json={"type": "order.paid", "data": {"n": n}})
    assert r.status_code == 202, r.text
    await settled(client, r.json()["event_id"])
    return receiver.received[-1]


async def expire_grace(hookline: Running, webhook_id: str) -> None:
    """What 24 hours do to a rotation: the previous secret's grace period ends."""
    repo = hookline.system.webhooks.repo
    async with hookline.system.db.engine.connect() as conn:
        account = (
            await conn.execute(
                sa.text("SELECT account_id FROM endpoints WHERE id = :id"), {"id": webhook_id}
            )
        ).scalar_one()
    ep = await repo.get(account, webhook_id)
    assert ep is not None
    assert ep.previous_secret_expires_at is not None
    await repo.replace(
        dataclasses.replace(
            ep, previous_secret_expires_at=ep.previous_secret_expires_at - timedelta(days=2)
        )
    )
