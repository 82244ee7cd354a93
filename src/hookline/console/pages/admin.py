"""The admin's pages: accounts, their API keys, and adding funds to their balances.

A new key is shown once, in the answer to the form that made it (a page, not a
redirect): a key must travel in neither a URL nor a cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from starlette.responses import Response

from hookline.console.registry import PAGES
from hookline.console.web import Form, Page, page
from hookline.errors import InvalidInput, PermissionDenied
from hookline.services.accounts import IssuedKey

Cursor = Annotated[str | None, Query(max_length=64)]
ACCOUNTS = 50
MAX_NAME = 200  # of an account or a key, as the API takes them
MAX_NOTE = 500


def _admin(p: Page) -> None:
    if not p.viewer.is_admin:
        raise PermissionDenied("these pages are for the admin: sign in with the admin key")


Admin = Annotated[Page, Depends(page)]  # checked by _admin in each handler


def _text(form: Form, name: str, limit: int, *, required: bool) -> str | None:
    value = form.optional(name)
    if value is None and required:
        raise InvalidInput(f"{name} must not be empty", code=f"invalid_{name}")
    if value is not None and len(value) > limit:
        raise InvalidInput(f"{name} must be at most {limit} characters", code=f"invalid_{name}")
    return value


def _amount(form: Form) -> int:
    text = form.get("amount").strip()
    if not text.lstrip("-").isdigit() or len(text) > 20:
        raise InvalidInput("amount must be a whole number of minor units", code="invalid_amount")
    return int(text)


@PAGES.get("/admin")
async def accounts(p: Admin, cursor: Cursor = None) -> Response:
    _admin(p)
    found = await p.system.accounts.list_accounts(cursor, ACCOUNTS)
    return p.render("admin/accounts.html", nav="admin", found=found, cursor=cursor)


@PAGES.post("/admin/accounts")
async def create_account(p: Admin) -> Response:
    _admin(p)
    name = _text(p.form, "name", MAX_NAME, required=True)
    assert name is not None
    account, issued = await p.system.accounts.create_account(name)
    return _key_shown(p, account.id, account.name, issued, new_account=True)


@PAGES.get("/admin/accounts/{account_id}")
async def account(account_id: str, p: Admin) -> Response:
    _admin(p)
    sys = p.system
    found = await sys.accounts.get_account(account_id)
    keys = await sys.accounts.list_keys(found.id)
    wallet = await sys.wallets.wallet(found.id)
    return p.render("admin/account.html", nav="admin", account=found, keys=keys, wallet=wallet)


@PAGES.post("/admin/accounts/{account_id}/keys")
async def create_key(account_id: str, p: Admin) -> Response:
    _admin(p)
    found = await p.system.accounts.get_account(account_id)
    name = _text(p.form, "name", MAX_NAME, required=False)
    issued = await p.system.accounts.create_key(found.id, name)
    return _key_shown(p, found.id, found.name, issued, new_account=False)


@PAGES.post("/admin/accounts/{account_id}/keys/{key_id}/revoke")
async def revoke_key(account_id: str, key_id: str, p: Admin) -> Response:
    _admin(p)
    key = await p.system.accounts.revoke_key(account_id, key_id)
    return p.redirect(f"/admin/accounts/{key.account_id}", flash="key_revoked")


@PAGES.post("/admin/accounts/{account_id}/credits")
async def credit(account_id: str, p: Admin) -> Response:
    _admin(p)
    amount = _amount(p.form)
    note = _text(p.form, "note", MAX_NOTE, required=False)
    done = await p.system.wallets.credit(account_id, amount, note)
    return p.redirect(f"/admin/accounts/{done.wallet.account_id}", flash="credited")


def _key_shown(
    p: Page, account_id: str, account_name: str, issued: IssuedKey, *, new_account: bool
) -> Response:
    """The one page that shows a new key: the answer to the form (201), never cached."""
    return p.render(
        "admin/key_created.html",
        status=201,
        nav="admin",
        account_id=account_id,
        account_name=account_name,
        issued=issued,
        new_account=new_account,
    )
