"""Accounts, API keys and authentication."""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from hookline.domain.keys import generate_api_key, hash_api_key
from hookline.domain.models import Account, ApiKey, Page
from hookline.errors import AuthenticationFailed, InvalidInput, NotFound, PermissionDenied
from hookline.services.common import Context
from hookline.store.accounts import AccountRepository

KEY_CACHE_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request speaks for: the admin, or one account."""

    account_id: str | None

    @property
    def is_admin(self) -> bool:
        return self.account_id is None

    def require_account(self) -> str:
        if self.account_id is None:
            raise PermissionDenied("this needs an account's API key, not the admin key")
        return self.account_id

    def require_admin(self) -> None:
        if self.account_id is not None:
            raise PermissionDenied("this needs the admin key")


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    secret: str


class AccountService:
    def __init__(self, repo: AccountRepository, ctx: Context, admin_key: str | None) -> None:
        self.repo = repo
        self.ctx = ctx
        self._admin_key = admin_key
        # key digest -> (account id, cached until); revocation clears this process's entry
        # at once and other processes' within KEY_CACHE_SECONDS.
        self._key_cache: dict[str, tuple[str, float]] = {}

    async def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise AuthenticationFailed()
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationFailed()
        if self._admin_key and hmac.compare_digest(token.encode(), self._admin_key.encode()):
            return Principal(account_id=None)
        who = await self.principal_for_digest(hash_api_key(token))
        if who is None:
            raise AuthenticationFailed("the API key is not valid")
        return who

    async def principal_for_digest(self, digest: str) -> Principal | None:
        """Who the key with this digest speaks for, while it is valid: the console keeps
        the digest of the key a browser signed in with, so revoking the key (or changing
        the admin key) ends that session too."""
        if self._admin_key and hmac.compare_digest(digest, hash_api_key(self._admin_key)):
            return Principal(account_id=None)
        cached = self._key_cache.get(digest)
        if cached is not None and cached[1] > time.monotonic():
            return Principal(account_id=cached[0])
        account_id = await self.repo.account_for_key(digest)
        if account_id is None:
            self._key_cache.pop(digest, None)
            return None
        if len(self._key_cache) > 10_000:
            self._key_cache.clear()
        self._key_cache[digest] = (account_id, time.monotonic() + KEY_CACHE_SECONDS)
        return Principal(account_id=account_id)

    async def create_account(self, name: str) -> tuple[Account, IssuedKey]:
        name = name.strip()
        if not name:
            raise InvalidInput("name must not be empty", code="invalid_name")
        now = self.ctx.now()
        account = Account(id=self.ctx.new_id("acct"), name=name, created_at=now)
        issued = self._new_key(account.id, "default")
        await self.repo.create(
            account, self.ctx.new_id("app"), issued.key, hash_api_key(issued.secret)
        )
        return account, issued

    async def get_account(self, account_id: str) -> Account:
        account = await self.repo.get(account_id)
        if account is None:
            raise NotFound("account")
        return account

    async def list_accounts(self, cursor: str | None, limit: int) -> Page[Account]:
        return await self.repo.list_page(cursor=cursor, limit=limit)

    async def create_key(self, account_id: str, name: str | None) -> IssuedKey:
        await self.get_account(account_id)
        issued = self._new_key(account_id, name)
        await self.repo.add_key(issued.key, hash_api_key(issued.secret))
        return issued

    async def list_keys(self, account_id: str) -> list[ApiKey]:
        return await self.repo.list_keys(account_id)

    async def revoke_key(self, account_id: str, key_id: str) -> ApiKey:
        key = await self.repo.revoke_key(account_id, key_id, self.ctx.now())
        if key is None:
            raise NotFound("api_key")
        self._key_cache.clear()
        return key

    async def default_app_id(self, account_id: str) -> str:
        return await self.repo.default_app_id(account_id)

    def _new_key(self, account_id: str, name: str | None) -> IssuedKey:
        secret = generate_api_key()
        key = ApiKey(
            id=self.ctx.new_id("key"),
            account_id=account_id,
            name=name,
            prefix=secret[:8],
            created_at=self.ctx.now(),
            revoked_at=None,
        )
        return IssuedKey(key=key, secret=secret)
