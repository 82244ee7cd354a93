"""Handle each webhook once: deliveries are at least once, and every retry of one event
carries the same ``webhook-id``."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Protocol


class SeenStore(Protocol):
    """Where handled ids are kept. Implement it over your database (a unique key) or
    Redis (``SET NX EX``) to deduplicate across processes."""

    def claim(self, webhook_id: str) -> bool:
        """True if this id was not seen (and is now taken); False for a duplicate."""
        ...

    def release(self, webhook_id: str) -> None:
        """Forget an id whose handling failed, so its retry is handled again."""
        ...


class MemoryStore:
    """Ids seen by this process in the last ``ttl`` seconds, at most ``max_ids``."""

    def __init__(self, ttl: float = 24 * 3600.0, max_ids: int = 100_000) -> None:
        self.ttl = ttl
        self.max_ids = max_ids
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, webhook_id: str) -> bool:
        now = time.monotonic()
        with self._lock:
            while self._seen and (
                next(iter(self._seen.values())) <= now or len(self._seen) >= self.max_ids
            ):
                self._seen.popitem(last=False)
            if webhook_id in self._seen:
                return False
            self._seen[webhook_id] = now + self.ttl
            return True

    def release(self, webhook_id: str) -> None:
        with self._lock:
            self._seen.pop(webhook_id, None)


class Deduplicator:
    """``claim`` before handling, ``release`` if handling failed."""

    def __init__(self, store: SeenStore | None = None) -> None:
        self.store: SeenStore = store if store is not None else MemoryStore()

    def claim(self, webhook_id: str | None) -> bool:
        # A request without an id (not from Hookline) cannot be deduplicated.
        return True if not webhook_id else self.store.claim(webhook_id)

    def release(self, webhook_id: str | None) -> None:
        if webhook_id:
            self.store.release(webhook_id)
