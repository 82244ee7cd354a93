# ruff: noqa: RUF001 - look-alike characters are what these tests are about
"""Registration refuses, with a 422 and a code saying why, every URL form that would be
refused at send time, for every URL a tenant gives: a webhook's ``callback_url`` (on
create and update), an API's ``upstream_url`` (on create and update), and a call's
``webhook_url`` (as a field and inside ``params``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.support.gateway import Party, list_api, party
from tests.support.server import Running
from tests.support.url_forms import FORMS, OK, Form

PORT = 9  # nothing is sent: these servers run no worker


async def _answer(r: httpx.Response, created: int) -> str:
    if r.status_code == created:
        return OK
    assert r.status_code == 422, r.text
    code = r.json()["code"]
    assert isinstance(code, str)
    return code


async def _check_every_url_field(
    owner: Party, consumer: Party, targets: dict[str, Any], form: Form, expected: str
) -> list[str]:
    url = form.url(PORT)
    webhook, api = targets["webhook"], targets["api"]
    tries: dict[str, Callable[[Party, Party], Awaitable[str]]] = {
        "callback_url": lambda o, _c: _post(o, "/v1/webhooks", {"callback_url": url}, 201),
        "callback_url (update)": lambda o, _c: _patch(
            o, f"/v1/webhooks/{webhook['webhook_id']}", {"callback_url": url}
        ),
        "upstream_url": lambda o, _c: _post(
            o, "/v1/apis", {"name": "x", "upstream_url": url, "price": 0}, 201
        ),
        "upstream_url (update)": lambda o, _c: _patch(
            o, f"/v1/apis/{api['api_id']}", {"upstream_url": url}
        ),
        "webhook_url": lambda _o, c: _post(
            c, "/v1/calls", {"api_id": api["api_id"], "webhook_url": url}, 202
        ),
        "params.webhook_url": lambda _o, c: _post(
            c, "/v1/calls", {"api_id": api["api_id"], "params": {"webhook_url": url}}, 202
        ),
    }
    wrong = []
    for field, attempt in tries.items():
        got = await attempt(owner, consumer)
        if "\x00" in url and got == "invalid_string":
            continue  # the input guard refuses NUL in any string before the URL is read
        if got != expected:
            wrong.append(f"{field} {url!r}: {got}, expected {expected}")
    return wrong


async def _post(p: Party, path: str, body: dict[str, Any], created: int) -> str:
    return await _answer(await p.client.post(path, json=body), created)


async def _patch(p: Party, path: str, body: dict[str, Any]) -> str:
    return await _answer(await p.client.patch(path, json=body), 200)


@pytest.mark.parametrize("allow", ["", "127.0.0.0/8"], ids=["no-allow-list", "loopback-allowed"])
async def test_every_url_form_is_judged_alike_in_every_url_field(
    make_hookline: Callable[..., Awaitable[Running]], allow: str
) -> None:
    hookline = await make_hookline(worker=False, egress_allow=allow)
    owner, consumer = await party(hookline, "owner"), await party(hookline, "consumer")
    hook = await owner.client.post("/v1/webhooks", json={"callback_url": "https://a.example/"})
    targets = {"webhook": hook.json(), "api": await list_api(owner, "https://a.example/api")}
    wrong: list[str] = []
    for form in FORMS:
        expected = form.with_loopback if allow else form.without_allow
        wrong += await _check_every_url_field(owner, consumer, targets, form, expected)
    assert wrong == []


async def test_a_refusal_says_why(make_hookline: Callable[..., Awaitable[Running]]) -> None:
    hookline = await make_hookline(worker=False, egress_allow="")
    client = await hookline.new_account()
    r = await client.post("/v1/webhooks", json={"callback_url": "http://１２７.０.０.１/"})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_url"
    assert "canonical" in r.json()["error"]
    r = await client.post("/v1/webhooks", json={"callback_url": "http://[64:ff9b::a9fe:a9fe]/"})
    assert r.status_code == 422
    assert r.json()["code"] == "url_not_allowed"
