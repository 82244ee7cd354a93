"""Balances, admin credits, the ledger, usage, and the secret results are signed with."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter

from hookline.api import shapes
from hookline.api.deps import AccountDep, Cursor, IdFilter, IsoTime, Limit, PrincipalDep, SystemDep
from hookline.api.gateway_responses import entry_out, usage_out, wallet_out
from hookline.api.gateway_schemas import Credit, SecretRotate
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON, page, ts

router = APIRouter(route_class=GuardedRoute, prefix="/v1", tags=["gateway"])


@router.get("/balance", response_class=JSON, response_model=shapes.Balance)
async def balance(account: AccountDep, sys: SystemDep) -> Any:
    """Spendable balance and the amount reserved for open calls (minor units)."""
    return JSON(wallet_out(await sys.wallets.wallet(account)))


@router.post(
    "/accounts/{account_id}/credits",
    status_code=201,
    response_class=JSON,
    response_model=shapes.Credited,
)
async def credit(account_id: str, body: Credit, who: PrincipalDep, sys: SystemDep) -> Any:
    """Add funds to an account (admin)."""
    who.require_admin()
    done = await sys.wallets.credit(account_id, body.amount, body.note)
    return JSON(entry_out(done.entry) | {"balance": wallet_out(done.wallet)}, status_code=201)


@router.get("/ledger", response_class=JSON, response_model=shapes.Page[shapes.LedgerEntry])
async def ledger(
    account: AccountDep,
    sys: SystemDep,
    call_id: IdFilter = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> Any:
    """This account's ledger entries, newest first."""
    p = await sys.wallets.ledger(account, call_id=call_id, cursor=cursor, limit=limit)
    return JSON(page([entry_out(e) for e in p.items], p))


@router.get("/usage", response_class=JSON, response_model=shapes.Usage)
async def usage(
    account: AccountDep,
    sys: SystemDep,
    role: Literal["consumer", "owner"] = "consumer",
    period: Literal["day", "month"] = "day",
    since: IsoTime = None,
    until: IsoTime = None,
    api_id: IdFilter = None,
) -> Any:
    """Finished calls per API and period (UTC): as consumer, what was spent; as owner,
    what was earned."""
    rows = await sys.wallets.usage(
        account, role=role, period=period, since=since, until=until, api_id=api_id
    )
    return JSON({"role": role, "period": period, "data": [usage_out(u) for u in rows]})


@router.get("/signing-secret", response_class=JSON, response_model=shapes.SigningSecret)
async def signing_secret(account: AccountDep, sys: SystemDep) -> Any:
    """The secret call results are signed with (Standard Webhooks)."""
    wallet = await sys.wallets.wallet(account)
    return JSON({"secret": wallet.signing_secret, "updated_at": ts(wallet.updated_at)})


@router.post("/signing-secret/rotate", response_class=JSON, response_model=shapes.SigningSecret)
async def rotate_signing_secret(
    account: AccountDep, sys: SystemDep, body: SecretRotate | None = None
) -> Any:
    """A new secret now; the old one keeps signing alongside it for 24 hours."""
    wallet = await sys.wallets.rotate_signing_secret(account, body.secret if body else None)
    return JSON({"secret": wallet.signing_secret, "updated_at": ts(wallet.updated_at)})
