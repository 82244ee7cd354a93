"""Accounts (admin) and API keys."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hookline.api import responses as out
from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, Limit, PrincipalDep, SystemDep
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON
from hookline.api.schemas import AccountCreate, KeyCreate
from hookline.errors import NotFound

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["accounts"])


@router.post(
    "/accounts", status_code=201, response_class=JSON, response_model=shapes.AccountCreated
)
async def create_account(body: AccountCreate, who: PrincipalDep, sys: SystemDep) -> Any:
    """Create an account (admin). Its API key is in the answer, and only there."""
    who.require_admin()
    account, issued = await sys.accounts.create_account(body.name)
    return JSON(
        out.account_out(account) | {"api_key": out.key_out(issued.key, issued.secret)},
        status_code=201,
    )


@router.get("/accounts", response_class=JSON, response_model=shapes.Page[shapes.Account])
async def list_accounts(
    who: PrincipalDep, sys: SystemDep, cursor: Cursor = None, limit: Limit = 50
) -> Any:
    who.require_admin()
    p = await sys.accounts.list_accounts(cursor, limit)
    return JSON(out.page([out.account_out(a) for a in p.items], p))


def _own(who: PrincipalDep, account_id: str) -> None:
    # An account sees only itself; another account's id is simply not found.
    if not who.is_admin and who.account_id != account_id:
        raise NotFound("account")


@router.get("/accounts/{account_id}", response_class=JSON, response_model=shapes.Account)
async def get_account(account_id: str, who: PrincipalDep, sys: SystemDep) -> Any:
    _own(who, account_id)
    return JSON(out.account_out(await sys.accounts.get_account(account_id)))


@router.post(
    "/accounts/{account_id}/keys",
    status_code=201,
    response_class=JSON,
    response_model=shapes.ApiKey,
)
async def create_account_key(
    account_id: str, who: PrincipalDep, sys: SystemDep, body: KeyCreate | None = None
) -> Any:
    _own(who, account_id)
    issued = await sys.accounts.create_key(account_id, body.name if body else None)
    return JSON(out.key_out(issued.key, issued.secret), status_code=201)


@router.get("/keys", response_class=JSON, response_model=shapes.Items[shapes.ApiKey])
async def list_keys(account: AccountDep, sys: SystemDep) -> Any:
    keys = await sys.accounts.list_keys(account)
    return JSON({"data": [out.key_out(k) for k in keys]})


@router.post("/keys", status_code=201, response_class=JSON, response_model=shapes.ApiKey)
async def create_key(account: AccountDep, sys: SystemDep, body: KeyCreate | None = None) -> Any:
    issued = await sys.accounts.create_key(account, body.name if body else None)
    return JSON(out.key_out(issued.key, issued.secret), status_code=201)


@router.delete("/keys/{key_id}", response_class=JSON, response_model=shapes.ApiKey)
async def revoke_key(key_id: str, account: AccountDep, sys: SystemDep) -> Any:
    return JSON(out.key_out(await sys.accounts.revoke_key(account, key_id)))
