"""Listing APIs in the catalog and managing them (the owner's side)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hookline.domain import egress
from hookline.domain.gateway import Api, ApiStatus, Completion, RetryOn
from hookline.domain.ids import is_valid_id
from hookline.domain.models import Page
from hookline.errors import InvalidInput, NotFound
from hookline.services.calls import RunnerLink
from hookline.services.common import Context
from hookline.store.apis import ApiRepository
from hookline.store.calls import CallRepository

MAX_TIMEOUT = 24 * 3600.0
MAX_PRICE = 10**12
MAX_TEST_CALLS = 10_000
MAX_CONCURRENCY = 10_000


@dataclass(frozen=True, slots=True)
class ApiSpec:
    name: str
    upstream_url: str
    completion: Completion
    timeout: float
    price: int
    description: str = ""
    public: bool = False
    max_concurrency: int | None = None
    idempotent: bool = False
    test_calls: int = 0
    retry_on: Mapping[str, Any] | None = None


class CatalogService:
    def __init__(
        self,
        apis: ApiRepository,
        calls: CallRepository,
        ctx: Context,
        runner: RunnerLink,
        allow: tuple[egress.IPNetwork, ...],
    ) -> None:
        self.apis = apis
        self.calls = calls
        self.ctx = ctx
        self.runner = runner
        self.allow = allow

    async def create(self, owner_id: str, spec: ApiSpec) -> Api:
        now = self.ctx.now()
        api = Api(
            id=self.ctx.new_id("api"),
            owner_id=owner_id,
            name=_name(spec.name),
            description=spec.description,
            upstream_url=self._upstream(spec.upstream_url),
            completion=spec.completion,
            timeout=_timeout(spec.timeout),
            price=_price(spec.price),
            public=spec.public,
            max_concurrency=_concurrency(spec.max_concurrency),
            idempotent=spec.idempotent,
            test_calls=_test_calls(spec.test_calls),
            status=ApiStatus.ACTIVE,
            created_at=now,
            updated_at=now,
            retry_on=_retry_on(spec.retry_on),
        )
        await self.apis.insert(api)
        return api

    async def get_owned(self, owner_id: str, api_id: str) -> Api:
        api = await self.apis.get(api_id) if is_valid_id(api_id, "api") else None
        if api is None or api.owner_id != owner_id or api.status is ApiStatus.DELETED:
            raise NotFound("api")
        return api

    async def get_public(self, api_id: str) -> Api:
        """A catalog entry: public and open for calls."""
        api = await self.apis.get(api_id) if is_valid_id(api_id, "api") else None
        if api is None or not api.public or api.status is not ApiStatus.ACTIVE:
            raise NotFound("api")
        return api

    async def list_owned(self, owner_id: str, cursor: str | None, limit: int) -> Page[Api]:
        return await self.apis.list_owned(owner_id, cursor=cursor, limit=limit)

    async def search(self, q: str | None, cursor: str | None, limit: int) -> Page[Api]:
        return await self.apis.search_public(q.strip() if q else None, cursor=cursor, limit=limit)

    async def update(self, owner_id: str, api_id: str, changes: Mapping[str, Any]) -> Api:
        """Change the given fields. Calls already accepted keep the price and timeout
        they were accepted with."""
        api = await self.get_owned(owner_id, api_id)
        checks: dict[str, Callable[[Any], Any]] = {
            "name": _name,
            "upstream_url": self._upstream,
            "timeout": _timeout,
            "price": _price,
            "max_concurrency": _concurrency,
            "test_calls": _test_calls,
            "retry_on": _retry_on,
        }
        new: dict[str, Any] = {"updated_at": self.ctx.now()}
        for field, value in changes.items():
            check = checks.get(field)
            new[field] = check(value) if check is not None else value
        return await self._save(dataclasses.replace(api, **new))

    async def set_paused(self, owner_id: str, api_id: str, paused: bool) -> Api:
        """A paused API refuses new calls; calls already queued wait until it resumes."""
        api = await self.get_owned(owner_id, api_id)
        status = ApiStatus.PAUSED if paused else ApiStatus.ACTIVE
        updated = await self._save(
            dataclasses.replace(api, status=status, updated_at=self.ctx.now())
        )
        if not paused:
            self.runner.queued()  # its queued calls may start now, here
            self.ctx.notifier.notify_calls()  # and in other processes
        return updated

    async def delete(self, owner_id: str, api_id: str) -> Api:
        """Take the API out of the catalog. Its queued calls are cancelled (and their
        consumers told); running ones finish."""
        api = await self.get_owned(owner_id, api_id)
        now = self.ctx.now()
        deleted = await self._save(
            dataclasses.replace(api, status=ApiStatus.DELETED, updated_at=now)
        )
        if await self.calls.cancel_queued_for_api(api_id, now):
            self.ctx.notifier.notify()
        return deleted

    async def _save(self, api: Api) -> Api:
        await self.apis.replace(api)
        return api

    def _upstream(self, url: str) -> str:
        url = url.strip()
        if len(url) > 2048:
            raise InvalidInput("upstream_url is longer than 2048", code="invalid_url")
        problem = egress.url_problem(url, self.allow)
        if problem is not None:
            code, reason = problem
            raise InvalidInput(f"upstream_url: {reason}", code=code)
        return url


def _name(value: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= 200:
        raise InvalidInput("name must be 1 to 200 characters", code="invalid_name")
    return value


def _timeout(value: float) -> float:
    if not 0 < value <= MAX_TIMEOUT:
        raise InvalidInput(
            f"timeout must be more than 0 and at most {MAX_TIMEOUT:.0f} seconds",
            code="invalid_timeout",
        )
    return float(value)


def _price(value: int) -> int:
    if not 0 <= value <= MAX_PRICE:
        raise InvalidInput(f"price must be 0 to {MAX_PRICE} minor units", code="invalid_price")
    return int(value)


def _concurrency(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= MAX_CONCURRENCY:
        raise InvalidInput(
            f"max_concurrency must be 1 to {MAX_CONCURRENCY}, or null for no limit",
            code="invalid_max_concurrency",
        )
    return value


def _test_calls(value: int) -> int:
    if not 0 <= value <= MAX_TEST_CALLS:
        raise InvalidInput(f"test_calls must be 0 to {MAX_TEST_CALLS}", code="invalid_test_calls")
    return value


MAX_RETRY_ATTEMPTS = 10
MAX_RETRY_BACKOFF = 60.0


def _retry_on(doc: Mapping[str, Any] | None) -> RetryOn | None:
    """An API's own retry rule. 2xx statuses cannot mean "try again"."""
    if doc is None:
        return None
    statuses = sorted(set(doc["statuses"]))
    if not statuses or any(not 300 <= s <= 599 for s in statuses):
        raise InvalidInput(
            "retry_on.statuses must be one or more HTTP statuses from 300 to 599",
            code="invalid_retry_on",
        )
    backoff, attempts = float(doc["backoff"]), int(doc["max_attempts"])
    if not 0 < backoff <= MAX_RETRY_BACKOFF:
        raise InvalidInput(
            f"retry_on.backoff must be more than 0 and at most {MAX_RETRY_BACKOFF:g} seconds",
            code="invalid_retry_on",
        )
    if not 1 <= attempts <= MAX_RETRY_ATTEMPTS:
        raise InvalidInput(
            f"retry_on.max_attempts must be 1 to {MAX_RETRY_ATTEMPTS}", code="invalid_retry_on"
        )
    return RetryOn(tuple(statuses), backoff, attempts)
