"""Who a console or portal page speaks for: sign-in with an API key, portal links, and
the branding an account's portal shows.

A browser holds a random session token in a cookie; the database keeps its digest. Every
page request resolves the token back to a :class:`Viewer`, and the pages then call the
same services the API does, with the viewer's account (and, in the portal, application).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hookline.domain.keys import hash_api_key
from hookline.errors import AuthenticationFailed, InvalidInput, NotFound
from hookline.services.accounts import AccountService
from hookline.services.applications import ApplicationService
from hookline.services.common import Context
from hookline.store.console import Branding, ConsoleRepository, SessionRow

PORTAL_TOKEN_PREFIX = "hkp_"  # noqa: S105 - a prefix, not a secret
DEFAULT_PORTAL_SECONDS = 3600.0
MIN_PORTAL_SECONDS = 60.0
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


class Scope(StrEnum):
    ADMIN = "admin"
    ACCOUNT = "account"
    APPLICATION = "application"  # a portal session: one application of one account


@dataclass(frozen=True, slots=True)
class Viewer:
    session_id: str
    scope: Scope
    account_id: str | None  # None: the admin
    app_id: str | None  # set in the portal alone
    csrf: str  # what every form posts back, derived from the session token
    expires_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.scope is Scope.ADMIN

    @property
    def in_portal(self) -> bool:
        return self.scope is Scope.APPLICATION


@dataclass(frozen=True, slots=True)
class PortalLink:
    token: str
    app_id: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_for(token: str) -> str:
    """A form token only the holder of the session cookie can know (the cookie is
    HttpOnly, so no script on any page can read it to compute this)."""
    return hashlib.sha256(b"hookline-csrf:" + token.encode()).hexdigest()[:40]


class ConsoleService:
    def __init__(
        self,
        repo: ConsoleRepository,
        accounts: AccountService,
        applications: ApplicationService,
        ctx: Context,
        *,
        session_seconds: float,
        portal_max_seconds: float,
    ) -> None:
        self.repo = repo
        self.accounts = accounts
        self.applications = applications
        self.ctx = ctx
        self.session_seconds = session_seconds
        self.portal_max_seconds = portal_max_seconds

    async def sign_in(self, key: str) -> tuple[str, Viewer]:
        """A new session for the holder of an account's API key or of the admin key."""
        key = key.strip()
        if not key or len(key) > 512:
            raise AuthenticationFailed("the API key is not valid")
        who = await self.accounts.authenticate(f"Bearer {key}")
        row = SessionRow(
            id=self.ctx.new_id("sess"),
            scope=Scope.ADMIN if who.is_admin else Scope.ACCOUNT,
            account_id=who.account_id,
            app_id=None,
            key_hash=hash_api_key(key),
            expires_at=self.ctx.now() + timedelta(seconds=self.session_seconds),
        )
        return await self._open(row)

    async def resolve(self, token: str | None) -> Viewer | None:
        """The viewer a session cookie speaks for, while the session and its key live."""
        if not token or len(token) > 128:
            return None
        row = await self.repo.session(_digest(token), self.ctx.now())
        if row is None:
            return None
        scope = Scope(row.scope)
        if scope is Scope.APPLICATION:
            assert row.account_id is not None
            assert row.app_id is not None
            try:
                await self.applications.get(row.account_id, row.app_id)
            except NotFound:
                return None  # the application was deleted
        else:
            assert row.key_hash is not None
            who = await self.accounts.principal_for_digest(row.key_hash)
            if who is None or who.account_id != row.account_id:
                return None  # the key was revoked (or the admin key changed)
        return Viewer(
            session_id=row.id,
            scope=scope,
            account_id=row.account_id,
            app_id=row.app_id,
            csrf=csrf_for(token),
            expires_at=row.expires_at,
        )

    async def sign_out(self, token: str) -> None:
        await self.repo.end_session(_digest(token))

    async def issue_portal_link(
        self, account_id: str, application: str, expires_in: float | None
    ) -> PortalLink:
        """A one-time token that opens the portal of one application of the account."""
        app = await self.applications.get(account_id, application)
        seconds = DEFAULT_PORTAL_SECONDS if expires_in is None else float(expires_in)
        if not MIN_PORTAL_SECONDS <= seconds <= self.portal_max_seconds:
            raise InvalidInput(
                f"expires_in must be between {MIN_PORTAL_SECONDS:g} and "
                f"{self.portal_max_seconds:g} seconds",
                code="invalid_expires_in",
            )
        token = PORTAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = self.ctx.now()
        expires_at = now + timedelta(seconds=seconds)
        await self.repo.add_portal_token(
            self.ctx.new_id("ptok"), _digest(token), account_id, app.id, now, expires_at
        )
        return PortalLink(token=token, app_id=app.id, expires_at=expires_at)

    async def enter_portal(self, token: str) -> tuple[str, Viewer] | None:
        """Exchange a portal link's token, once, for a session until the link's expiry."""
        if not token.startswith(PORTAL_TOKEN_PREFIX) or len(token) > 128:
            return None
        used = await self.repo.use_portal_token(_digest(token), self.ctx.now())
        if used is None:
            return None
        account_id, app_id, expires_at = used
        row = SessionRow(
            id=self.ctx.new_id("sess"),
            scope=Scope.APPLICATION,
            account_id=account_id,
            app_id=app_id,
            key_hash=None,
            expires_at=expires_at,
        )
        return await self._open(row)

    async def branding(self, account_id: str) -> Branding:
        found = await self.repo.branding(account_id)
        if found is not None:
            return found
        account = await self.accounts.get_account(account_id)
        return Branding(account_id, account.name, None, None, None)

    async def set_branding(
        self,
        account_id: str,
        *,
        name: str | None,
        logo_url: str | None,
        accent_color: str | None,
    ) -> Branding:
        name = (name or "").strip() or None
        if name is not None and len(name) > 200:
            raise InvalidInput("name must be at most 200 characters", code="invalid_name")
        logo_url = (logo_url or "").strip() or None
        # https alone: the pages' Content-Security-Policy loads images from nowhere else
        # (and a portal served over HTTPS would refuse a plain-HTTP image anyway).
        if logo_url is not None and (
            len(logo_url) > 2048
            or not (logo_url.startswith("https://") or logo_url.startswith("/"))
            or logo_url.startswith("//")
            or any(c in logo_url for c in "\"'<> \n\r\t")
        ):
            raise InvalidInput(
                "logo_url must be an https URL or a path on this server",
                code="invalid_logo_url",
            )
        accent_color = (accent_color or "").strip() or None
        if accent_color is not None and not _COLOR.fullmatch(accent_color):
            raise InvalidInput(
                "accent_color must be a colour such as #1f6feb", code="invalid_accent_color"
            )
        await self.accounts.get_account(account_id)
        branding = Branding(account_id, name, logo_url, accent_color, self.ctx.now())
        await self.repo.set_branding(branding)
        return branding

    async def _open(self, row: SessionRow) -> tuple[str, Viewer]:
        token = secrets.token_urlsafe(32)
        await self.repo.add_session(row, _digest(token), self.ctx.now())
        viewer = Viewer(
            session_id=row.id,
            scope=Scope(row.scope),
            account_id=row.account_id,
            app_id=row.app_id,
            csrf=csrf_for(token),
            expires_at=row.expires_at,
        )
        return token, viewer
