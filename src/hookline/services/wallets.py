"""Balances, admin credits, the ledger, usage, and the key results are signed with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hookline.domain.gateway import LedgerEntry, LedgerKind, UsageRow, Wallet
from hookline.domain.models import Page
from hookline.domain.signing import KeyType, Scheme, generate_secret, key_type, secret_problem
from hookline.errors import InvalidInput, NotFound
from hookline.services.common import Context
from hookline.store.accounts import AccountRepository
from hookline.store.wallets import WalletRepository

MAX_CREDIT = 10**12
ROTATION_GRACE = timedelta(hours=24)
PERIODS = ("day", "month")


@dataclass(frozen=True, slots=True)
class Credited:
    entry: LedgerEntry
    wallet: Wallet


class WalletService:
    def __init__(self, repo: WalletRepository, accounts: AccountRepository, ctx: Context) -> None:
        self.repo = repo
        self.accounts = accounts
        self.ctx = ctx

    async def wallet(self, account_id: str) -> Wallet:
        return await self.repo.get(account_id, generate_secret(), self.ctx.now())

    async def credit(self, account_id: str, amount: int, note: str | None) -> Credited:
        """Add ``amount`` (minor units) to an account's balance (admin)."""
        if not 1 <= amount <= MAX_CREDIT:
            raise InvalidInput(
                f"amount must be 1 to {MAX_CREDIT} minor units", code="invalid_amount"
            )
        if await self.accounts.get(account_id) is None:
            raise NotFound("account")
        entry_id = self.ctx.new_id("led")
        entry = LedgerEntry(
            id=entry_id,
            account_id=account_id,
            settlement_id=entry_id,
            call_id=None,
            api_id=None,
            kind=LedgerKind.CREDIT,
            amount=amount,
            note=note,
            created_at=self.ctx.now(),
        )
        wallet = await self.repo.credit(entry, generate_secret())
        return Credited(entry, wallet)

    async def ledger(
        self, account_id: str, *, call_id: str | None, cursor: str | None, limit: int
    ) -> Page[LedgerEntry]:
        return await self.repo.ledger(account_id, call_id=call_id, cursor=cursor, limit=limit)

    async def usage(
        self,
        account_id: str,
        *,
        role: str,
        period: str,
        since: datetime | None,
        until: datetime | None,
        api_id: str | None,
    ) -> list[UsageRow]:
        if role not in ("consumer", "owner"):
            raise InvalidInput("role must be consumer or owner", code="invalid_role")
        if period not in PERIODS:
            raise InvalidInput("period must be day or month", code="invalid_period")
        return await self.repo.usage(
            account_id,
            as_owner=role == "owner",
            period=period,
            since=since,
            until=until,
            api_id=api_id,
        )

    async def rotate_signing_secret(self, account_id: str, secret: str | None) -> Wallet:
        """A new secret for signing call results; the old one keeps signing alongside it
        for 24 hours so receivers can switch without losing a webhook."""
        secret = secret if secret is not None else generate_secret()
        problem = secret_problem(secret, Scheme.STANDARD)
        if key_type(secret) is not KeyType.HMAC_SHA256:
            # Call results are verified with the consumer's copy of this secret.
            problem = "the signing secret of call results must be a whsec_ secret"
        if problem is not None:
            raise InvalidInput(f"secret: {problem}", code="invalid_secret")
        now = self.ctx.now()
        return await self.repo.rotate_secret(account_id, secret, now + ROTATION_GRACE, now)
