"""Request dependencies: the running system and the caller's identity."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from hookline.services.accounts import Principal
from hookline.system import System


async def system(request: Request) -> System:
    sys: System = request.app.state.system
    return sys


SystemDep = Annotated[System, Depends(system)]


async def principal(
    sys: SystemDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    return await sys.accounts.authenticate(authorization)


PrincipalDep = Annotated[Principal, Depends(principal)]


async def account_id(who: PrincipalDep) -> str:
    return who.require_account()


AccountDep = Annotated[str, Depends(account_id)]
Limit = Annotated[int, Query(ge=1, le=250)]
Cursor = Annotated[str | None, Query(max_length=64)]
