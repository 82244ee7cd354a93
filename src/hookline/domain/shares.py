"""How many sends one webhook may have in flight in one worker: its share.

A webhook starts with an eighth of ``endpoint_concurrency`` (at least one) and earns
the rest with answers: every attempt that gets an HTTP response, whatever its status,
raises its share by one, up to ``endpoint_concurrency``, so a receiver that keeps up
reaches its whole share within a few round trips. An attempt that gets no answer (a
timeout, a connection error) halves it, down to one. A receiver that never answers
then holds a few slots for the length of a timeout, not ``endpoint_concurrency`` of
them, and a handful of dead receivers cannot add up to every slot of the worker.

The state is this process's own, like the slots it counts. A webhook not sent to for
``forget_after`` seconds is forgotten: when it returns, it starts again from the start.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class _Share:
    limit: int
    touched: float


class SendShares:
    def __init__(self, ceiling: int, *, forget_after: float = 600.0) -> None:
        self.ceiling = ceiling
        self.start = max(1, ceiling // 8)
        self.forget_after = forget_after
        self._shares: dict[str, _Share] = {}

    def limit(self, webhook_id: str) -> int:
        """The sends this webhook may have in flight now."""
        s = self._shares.get(webhook_id)
        return self.start if s is None else s.limit

    def answered(self, webhook_id: str, now: float) -> None:
        """One of its attempts got an HTTP response."""
        s = self._shares.get(webhook_id)
        if s is None:
            if self.start >= self.ceiling:
                return
            s = self._shares[webhook_id] = _Share(self.start, now)
        s.limit = min(self.ceiling, s.limit + 1)
        s.touched = now

    def unanswered(self, webhook_id: str, now: float) -> None:
        """One of its attempts got no response: timed out or could not connect."""
        s = self._shares.get(webhook_id)
        if s is None:
            s = self._shares[webhook_id] = _Share(self.start, now)
        s.limit = max(1, s.limit // 2)
        s.touched = now

    def prune(self, now: float, busy: set[str] | dict[str, int]) -> None:
        """Forget the webhooks not sent to for ``forget_after`` seconds."""
        old = [
            w
            for w, s in self._shares.items()
            if now - s.touched >= self.forget_after and w not in busy
        ]
        for w in old:
            del self._shares[w]

    def __len__(self) -> int:
        return len(self._shares)
