"""Registering chain event sources and their watched addresses, and committing what a
follower found: its events and its cursor in one transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson

from hookline.domain import egress
from hookline.domain.models import Page, Published
from hookline.domain.sources import Source, SourceStatus, WatchedAddress
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context
from hookline.services.event_types import EventTypeService
from hookline.services.events import EventInput, EventService
from hookline.sources.base import ChainFamily, FollowState, Step
from hookline.sources.families import FAMILIES
from hookline.store.sources import Progress, SourceRepository

MAX_URL_LENGTH = 2048
MAX_CONFIRMATIONS = 16
MAX_CONFIRMATION = 10_000
MAX_ADDRESSES_PER_REQUEST = 1000
MAX_ADDRESSES_PER_SOURCE = 10_000
MIN_POLL, MAX_POLL = 0.05, 600.0
# A step's events are one transaction; the follower stops a step near this many.
MAX_STEP_EVENTS = 500


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: str
    name: str
    rpc_url: str
    chain_id: int | None = None
    confirmations: Sequence[int] = (1,)
    poll_interval: float = 2.0
    start_block: int | None = None


class SourceService:
    def __init__(
        self,
        repo: SourceRepository,
        events: EventService,
        ctx: Context,
        allow: tuple[egress.IPNetwork, ...],
        *,
        reorg_window: int,
        catalog: EventTypeService | None = None,
    ) -> None:
        self.catalog = catalog
        self.repo = repo
        self.events = events
        self.ctx = ctx
        self.allow = allow
        self.reorg_window = reorg_window

    # -- the resource ------------------------------------------------------------------

    async def create(self, account_id: str, spec: SourceSpec) -> Source:
        family = self._family(spec.kind)
        now = self.ctx.now()
        if spec.start_block is not None and spec.start_block < 0:
            raise InvalidInput("start_block must be 0 or more", code="invalid_start_block")
        source = Source(
            id=self.ctx.new_id("src"),
            account_id=account_id,
            kind=spec.kind,
            name=spec.name,
            rpc_url=self._url(spec.rpc_url),
            chain_id=self._chain_id(spec.chain_id),
            confirmations=self._confirmations(spec.confirmations),
            poll_interval=self._poll(spec.poll_interval),
            start_block=spec.start_block,
            status=SourceStatus.ACTIVE,
            cursor=None,
            head_block=None,
            last_error=None,
            last_error_at=None,
            created_at=now,
            updated_at=now,
        )
        await self.repo.insert(source)
        await self._register_types(account_id, family)
        return source

    async def _register_types(self, account_id: str, family: ChainFamily) -> None:
        """Put the family's event types, with their schemas and examples, in the account's
        catalog, so its events are checked against them and users can see and test them.
        A type the account already has (perhaps with its own description) is left as is."""
        if self.catalog is None:
            return
        for spec in family.event_types():
            with contextlib.suppress(Conflict):
                await self.catalog.create(
                    account_id,
                    spec.name,
                    description=spec.description,
                    schema=spec.schema,
                    example=spec.example,
                )

    async def get(self, account_id: str, source_id: str) -> Source:
        source = await self.repo.get(account_id, source_id)
        if source is None:
            raise NotFound("source")
        return source

    async def list_page(self, account_id: str, *, cursor: str | None, limit: int) -> Page[Source]:
        return await self.repo.list_page(account_id, cursor=cursor, limit=limit)

    async def update(self, account_id: str, source_id: str, changes: Mapping[str, Any]) -> Source:
        """Apply the fields present: name, rpc_url, chain_id, confirmations, poll_interval."""
        await self.get(account_id, source_id)
        values: dict[str, Any] = {"updated_at": self.ctx.now()}
        if "name" in changes:
            values["name"] = changes["name"]
        if "rpc_url" in changes:
            values["rpc_url"] = self._url(changes["rpc_url"])
        if "chain_id" in changes:
            values["chain_id"] = self._chain_id(changes["chain_id"])
        if "confirmations" in changes:
            values["confirmations"] = self._confirmations(changes["confirmations"])
        if "poll_interval" in changes:
            values["poll_interval"] = self._poll(changes["poll_interval"])
        return await self._apply(account_id, source_id, values)

    async def set_active(self, account_id: str, source_id: str, active: bool) -> Source:
        """Pause (the follower stops after its current step) or resume from the cursor."""
        await self.get(account_id, source_id)
        status = SourceStatus.ACTIVE if active else SourceStatus.PAUSED
        return await self._apply(
            account_id,
            source_id,
            # Dropping the lease stops the follower at its next commit and lets any
            # worker take the source up again at once on resume.
            {
                "status": status.value,
                "lease_owner": None,
                "lease_expires_at": None,
                "updated_at": self.ctx.now(),
            },
        )

    async def delete(self, account_id: str, source_id: str) -> None:
        if not await self.repo.delete(account_id, source_id):
            raise NotFound("source")

    async def _apply(self, account_id: str, source_id: str, values: dict[str, Any]) -> Source:
        source = await self.repo.update(account_id, source_id, values)
        if source is None:
            raise NotFound("source")
        return source

    # -- watched addresses -------------------------------------------------------------

    async def add_addresses(
        self, account_id: str, source_id: str, entries: Sequence[tuple[str, str | None]]
    ) -> list[WatchedAddress]:
        source = await self.get(account_id, source_id)
        family = self._family(source.kind)
        if not 1 <= len(entries) <= MAX_ADDRESSES_PER_REQUEST:
            raise InvalidInput(
                f"give 1 to {MAX_ADDRESSES_PER_REQUEST} addresses", code="invalid_addresses"
            )
        normalised: list[tuple[str, str | None]] = []
        for i, (raw, label) in enumerate(entries):
            where = f"addresses[{i}]: " if len(entries) > 1 else ""
            try:
                normalised.append((family.normalise_address(raw), label))
            except ValueError as exc:
                raise InvalidInput(f"{where}{exc}", code="invalid_address") from None
        # Re-adding watched addresses counts against the limit too: a cheap, safe bound.
        if await self.repo.count_addresses(source_id) + len(normalised) > MAX_ADDRESSES_PER_SOURCE:
            raise InvalidInput(
                f"a source watches at most {MAX_ADDRESSES_PER_SOURCE} addresses",
                code="too_many_addresses",
            )
        return await self.repo.add_addresses(source_id, normalised, self.ctx.now())

    async def list_addresses(
        self, account_id: str, source_id: str, *, after: str | None, limit: int
    ) -> tuple[list[WatchedAddress], str | None]:
        await self.get(account_id, source_id)
        return await self.repo.list_addresses(source_id, after=after, limit=limit)

    async def remove_address(self, account_id: str, source_id: str, address: str) -> None:
        source = await self.get(account_id, source_id)
        try:
            normalised = self._family(source.kind).normalise_address(address)
        except ValueError as exc:
            raise InvalidInput(str(exc), code="invalid_address") from None
        if not await self.repo.remove_address(source_id, normalised):
            raise NotFound("address")

    def display_address(self, source: Source, address: str) -> str:
        return self._family(source.kind).display_address(address)

    # -- following (the runner's side) -------------------------------------------------

    async def follow_state(
        self, source_id: str, owner: str, lease_seconds: float
    ) -> FollowState | None:
        """Renew ``owner``'s lease and read the state for one step; None when the source
        is no longer this owner's to follow."""
        rows = await self.repo.follow_rows(
            source_id, owner, lease_until=self.ctx.now() + timedelta(seconds=lease_seconds)
        )
        if rows is None:
            return None
        return FollowState(rows.source, rows.addresses, rows.tracked, rows.blocks)

    async def commit_step(self, source: Source, owner: str, step: Step) -> list[Published]:
        """Publish the step's events and move the cursor, in one transaction. Raises
        ``LeaseLost`` (and commits nothing) when ``owner`` no longer holds the source."""
        events = [
            EventInput(p.event_type, orjson.dumps(p.data).decode(), p.idempotency_key)
            for p in step.events
        ]
        progress = Progress(
            head=step.head,
            cursor=step.cursor,
            rewound=step.rewound,
            blocks=step.blocks,
            new_tracked=step.new_tracked,
            confirmed=step.confirmed,
            tracked_keys={p.idempotency_key: p.track for p in step.events if p.track},
            keep_blocks=max(self.reorg_window, max(source.confirmations, default=0)) + 1,
        )
        return await self.events.publish_batch(
            source.account_id,
            events,
            also=self.repo.progress(source.id, owner, progress),
            max_batch=max(len(events), 1),
        )

    async def record_error(
        self, source_id: str, owner: str, message: str, head: int | None
    ) -> None:
        await self.repo.record_error(source_id, owner, message, self.ctx.now(), head)

    async def claim(self, owner: str, *, lease_seconds: float, limit: int) -> list[str]:
        now = self.ctx.now()
        return await self.repo.claim(
            owner, now=now, lease_until=now + timedelta(seconds=lease_seconds), limit=limit
        )

    async def release(self, source_id: str, owner: str) -> None:
        await self.repo.release(source_id, owner)

    # -- validation --------------------------------------------------------------------

    @staticmethod
    def _family(kind: str) -> ChainFamily:
        family = FAMILIES.get(kind)
        if family is None:
            raise InvalidInput(
                f"kind must be one of: {', '.join(sorted(FAMILIES))}", code="invalid_source_kind"
            )
        return family

    def _url(self, url: Any) -> str:
        if not isinstance(url, str) or not url.strip():
            raise InvalidInput("rpc_url is required", code="invalid_url")
        text = str(url).strip()
        if len(text) > MAX_URL_LENGTH:
            raise InvalidInput(f"rpc_url is longer than {MAX_URL_LENGTH}", code="invalid_url")
        problem = egress.url_problem(text, self.allow)
        if problem is not None:
            code, reason = problem
            raise InvalidInput(f"rpc_url: {reason}", code=code)
        return text

    @staticmethod
    def _chain_id(value: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
            raise InvalidInput("chain_id must be a positive integer", code="invalid_chain_id")
        return value

    @staticmethod
    def _confirmations(values: Any) -> tuple[int, ...]:
        if (
            not isinstance(values, list | tuple)
            or not 1 <= len(values) <= MAX_CONFIRMATIONS
            or any(
                isinstance(c, bool) or not isinstance(c, int) or not 0 <= c <= MAX_CONFIRMATION
                for c in values
            )
        ):
            raise InvalidInput(
                f"confirmations must be 1 to {MAX_CONFIRMATIONS} counts from 0 (pending) "
                f"to {MAX_CONFIRMATION}, e.g. [0, 1, 12]",
                code="invalid_confirmations",
            )
        return tuple(sorted(set(values)))

    @staticmethod
    def _poll(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput("poll_interval must be a number", code="invalid_poll_interval")
        if not MIN_POLL <= value <= MAX_POLL:
            raise InvalidInput(
                f"poll_interval must be {MIN_POLL} to {MAX_POLL} seconds",
                code="invalid_poll_interval",
            )
        return float(value)
