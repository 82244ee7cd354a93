"""``Idempotency-Key`` on every POST: the first answer is kept and replayed.

A key belongs to one caller (an account, or the admin). The same key with the same
request (method, path, query and body, byte for byte) answers with the first answer; with
a different request it is refused. A second request that arrives while the first still
runs waits for its answer, for up to ``WAIT_SECONDS``.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import timedelta

from hookline.errors import Conflict, InvalidInput
from hookline.services.common import Context
from hookline.store.idempotent_requests import IdempotentRequestRepository

MAX_KEY_LENGTH = 255
# How long a first request may run before a retry with its key may run it again.
LOCK_SECONDS = 60.0
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
PURGE_EVERY_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int
    content_type: str | None
    body: bytes


def fingerprint(method: str, path: str, query: bytes, body: bytes) -> str:
    h = hashlib.sha256()
    for part in (method.encode(), path.encode(), query, body):
        h.update(len(part).to_bytes(8, "big"))
        h.update(part)
    return h.hexdigest()


class IdempotentRequestService:
    def __init__(self, repo: IdempotentRequestRepository, ctx: Context, ttl: float) -> None:
        self.repo = repo
        self.ctx = ctx
        self.ttl = timedelta(seconds=ttl)
        self._next_purge = 0.0

    async def begin(self, scope: str, key: str, fingerprint: str) -> Replay | None:
        """None: this request holds the key and must run, then ``finish`` or ``abandon``.

        Otherwise the first answer to replay. Raises ``InvalidInput`` when the key was
        used for a different request, ``Conflict`` when the first is still running.
        """
        if not 1 <= len(key) <= MAX_KEY_LENGTH or not key.isprintable():
            raise InvalidInput(
                f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters",
                code="invalid_idempotency_key",
            )
        await self._purge_now_and_then()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + WAIT_SECONDS
        while True:
            now = self.ctx.now()
            held = await self.repo.claim(
                scope,
                key,
                fingerprint,
                now=now,
                locked_until=now + timedelta(seconds=LOCK_SECONDS),
                expires_at=now + self.ttl,
            )
            if held is None:
                return None
            if held.fingerprint != fingerprint:
                raise InvalidInput(
                    "this Idempotency-Key was used for a different request",
                    code="idempotency_key_reused",
                )
            if held.status_code is not None:
                return Replay(held.status_code, held.content_type, held.body or b"")
            if loop.time() >= give_up:
                raise Conflict(
                    "a request with this Idempotency-Key is still running; retry shortly",
                    code="idempotency_key_in_use",
                )
            await asyncio.sleep(POLL_SECONDS)

    async def finish(
        self, scope: str, key: str, status_code: int, content_type: str | None, body: bytes
    ) -> None:
        await self.repo.complete(scope, key, status_code, content_type, body)

    async def abandon(self, scope: str, key: str) -> None:
        await self.repo.release(scope, key)

    async def _purge_now_and_then(self) -> None:
        loop = asyncio.get_running_loop()
        if loop.time() < self._next_purge:
            return
        self._next_purge = loop.time() + PURGE_EVERY_SECONDS
        await self.repo.purge_expired(self.ctx.now())
