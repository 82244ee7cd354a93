"""Request dependencies: the running system and the caller's identity."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from hookline import logs
from hookline.services.accounts import Principal
from hookline.system import System


async def system(request: Request) -> System:
    sys: System = request.app.state.system
    return sys


SystemDep = Annotated[System, Depends(system)]


# Declares the bearer scheme in the OpenAPI (Swagger UI's Authorize button); the header
# itself is checked by the account service, which answers 401 in Hookline's own shape.
bearer = HTTPBearer(auto_error=False, description="an account's API key (hk_…), or the admin key")


async def principal(
    request: Request,
    sys: SystemDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)] = None,
) -> Principal:
    who = await sys.accounts.authenticate(request.headers.get("authorization"))
    logs.annotate(account_id=who.account_id or "admin")
    return who


PrincipalDep = Annotated[Principal, Depends(principal)]


async def account_id(who: PrincipalDep) -> str:
    return who.require_account()


AccountDep = Annotated[str, Depends(account_id)]
Limit = Annotated[int, Query(ge=1, le=250)]
Cursor = Annotated[str | None, Query(max_length=64)]
IdFilter = Annotated[str | None, Query(max_length=64)]


def _iso_only(value: object) -> object:
    # Pydantic would also read a bare number as a Unix time; the API documents ISO 8601.
    if isinstance(value, str) and not _ISO_DATE.match(value):
        raise ValueError("must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d\d-\d\d")
IsoTime = Annotated[datetime | None, Query(), BeforeValidator(_iso_only)]
