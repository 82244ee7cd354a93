"""Applications: creating, finding (by id or uid), changing and deleting them.

Every account has a ``default`` application, which the native API uses when a request
names none; it cannot be deleted. Deleting any other application deletes its webhooks
with it (their queued deliveries are cancelled), the way deleting a webhook does.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from hookline.domain.models import Application, Page
from hookline.errors import Conflict, InvalidInput, NotFound
from hookline.services.common import Context
from hookline.store.accounts import DEFAULT_APP_UID
from hookline.store.applications import ApplicationRepository, UidTaken
from hookline.store.gateway_endpoints import GATEWAY_APP_UID

MAX_NAME = 256
MAX_METADATA = 50
# What a uid may hold: it appears in URL paths, so nothing that needs escaping.
UID = re.compile(r"[a-zA-Z0-9\-_.]{1,256}")
RESERVED_UIDS = frozenset({GATEWAY_APP_UID})


def check_uid(uid: str | None, what: str) -> str | None:
    if uid is None:
        return None
    if not UID.fullmatch(uid):
        raise InvalidInput(
            f"{what} uid must be 1 to 256 letters, digits, '-', '_' or '.'", code="invalid_uid"
        )
    return uid


def check_metadata(metadata: Mapping[str, Any] | None) -> dict[str, str]:
    if not metadata:
        return {}
    if len(metadata) > MAX_METADATA:
        raise InvalidInput(f"metadata holds at most {MAX_METADATA} keys", code="invalid_metadata")
    for key, value in metadata.items():
        if not isinstance(value, str) or not 1 <= len(key) <= 256 or len(value) > 4096:
            raise InvalidInput(
                "metadata maps keys (1 to 256 characters) to strings (at most 4096)",
                code="invalid_metadata",
            )
    return dict(metadata)


def check_rate_limit(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 1_000_000:
        raise InvalidInput("rate_limit must be 1 to 1000000 per second", code="invalid_rate_limit")
    return value


class ApplicationService:
    def __init__(self, repo: ApplicationRepository, ctx: Context) -> None:
        self.repo = repo
        self.ctx = ctx

    async def create(
        self,
        account_id: str,
        *,
        name: str,
        uid: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        rate_limit: int | None = None,
    ) -> Application:
        now = self.ctx.now()
        app = Application(
            id=self.ctx.new_id("app"),
            account_id=account_id,
            uid=self._uid(uid),
            name=self._name(name),
            metadata=check_metadata(metadata),
            rate_limit=check_rate_limit(rate_limit),
            created_at=now,
            updated_at=now,
        )
        try:
            await self.repo.insert(app)
        except UidTaken:
            raise _uid_taken(uid) from None
        return app

    async def get(self, account_id: str, id_or_uid: str) -> Application:
        app = await self.repo.find(account_id, id_or_uid)
        if app is None:
            raise NotFound("application")
        return app

    async def app_id(self, account_id: str, id_or_uid: str | None) -> str:
        """The id of the application named by id or uid; the default one for None."""
        return (await self.get(account_id, id_or_uid or DEFAULT_APP_UID)).id

    async def list_page(
        self, account_id: str, *, cursor: str | None, limit: int
    ) -> Page[Application]:
        return await self.repo.list_page(account_id, cursor=cursor, limit=limit)

    async def update(
        self, account_id: str, id_or_uid: str, changes: Mapping[str, Any]
    ) -> Application:
        """Apply the fields present in ``changes``: name, uid, metadata, rate_limit."""
        current = await self.get(account_id, id_or_uid)
        new: dict[str, Any] = {"updated_at": self.ctx.now()}
        if "name" in changes and changes["name"] is not None:
            new["name"] = self._name(changes["name"])
        if "uid" in changes and changes["uid"] != current.uid:
            if current.uid == DEFAULT_APP_UID:
                raise Conflict("the default application keeps its uid", code="default_application")
            new["uid"] = self._uid(changes["uid"])
        if "metadata" in changes:
            new["metadata"] = check_metadata(changes["metadata"])
        if "rate_limit" in changes:
            new["rate_limit"] = check_rate_limit(changes["rate_limit"])
        updated = dataclasses.replace(current, **new)
        try:
            await self.repo.replace(updated)
        except UidTaken:
            raise _uid_taken(updated.uid) from None
        return updated

    async def delete(self, account_id: str, id_or_uid: str) -> Application:
        app = await self.get(account_id, id_or_uid)
        if app.uid == DEFAULT_APP_UID:
            raise Conflict("the default application cannot be deleted", code="default_application")
        await self.repo.delete(account_id, app.id, self.ctx.now())
        return app

    @staticmethod
    def _name(name: str) -> str:
        if not 1 <= len(name) <= MAX_NAME:
            raise InvalidInput(
                f"name must be 1 to {MAX_NAME} characters", code="invalid_application"
            )
        return name

    @staticmethod
    def _uid(uid: str | None) -> str | None:
        uid = check_uid(uid, "application")
        if uid in RESERVED_UIDS or (uid is not None and uid.startswith("app_")):
            raise InvalidInput(f"uid {uid!r} is reserved", code="invalid_uid")
        return uid


def _uid_taken(uid: str | None) -> Conflict:
    return Conflict(f"an application with uid {uid!r} exists", code="application_uid_taken")
