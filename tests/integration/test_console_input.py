"""No input to a console or portal page makes a 500: odd ids, bad query values, forms
with missing or wrong fields each get a page with a 4xx and a stable code."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support.server import Running

ODD = ["x", "%00", "a" * 300, "ep_" + "Z" * 26, "..%2F..%2Fetc", "%F0%9F%92%A9"]


async def _signed_in(hookline: Running) -> tuple[httpx.AsyncClient, str]:
    r = await hookline.admin.post("/v1/accounts", json={"name": "odd"})
    key = r.json()["api_key"]["key"]
    c = httpx.AsyncClient(base_url=hookline.url, timeout=10)
    form = await c.get("/console/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    signed = await c.post("/console/sign-in", data={"csrf": token.group(1), "key": key})
    assert signed.status_code == 303, signed.text
    page = await c.get("/console")
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert csrf is not None
    return c, csrf.group(1)


@pytest.mark.parametrize("odd", ODD)
async def test_odd_ids_and_query_values_answer_4xx_pages(hookline: Running, odd: str) -> None:
    c, csrf = await _signed_in(hookline)
    try:
        gets = [
            f"/console/webhooks/{odd}",
            f"/console/webhooks/{odd}/edit",
            f"/console/webhooks/{odd}/secret",
            f"/console/events/{odd}",
            f"/console/deliveries/{odd}",
            f"/console/attempts/{odd}",
            f"/console/event-types/{odd}",
            f"/console/gateway/apis/{odd}",
            f"/console/gateway/calls/{odd}",
            f"/console/webhooks?app={odd}&cursor={odd}",
            f"/console/events?status={odd}&since={odd}&until={odd}&webhook={odd}&type={odd}",
            f"/console/events?cursor={odd}&app={odd}",
            f"/console/live?webhook={odd}",
            f"/console/gateway?calls={odd}&ledger={odd}",
            f"/portal/enter/{odd}",
        ]
        for path in gets:
            r = await c.get(path)
            # An id that names nothing is a 4xx; a query value may also be read as nothing
            # (an unknown cursor is the first page).
            low = 200 if "?" in path else 400
            assert low <= r.status_code < 500, (path, r.status_code, r.text[:300])
            # A page, except what the input guard refuses before any route runs (a NUL).
            if not r.headers["content-type"].startswith("text/html"):
                assert r.json()["code"] == "invalid_string", path
            assert "Traceback" not in r.text
        posts = [
            (f"/console/webhooks/{odd}/disable", {}),
            (f"/console/webhooks/{odd}/test", {"event_type": odd}),
            (f"/console/webhooks/{odd}/recover", {"since": odd}),
            (f"/console/deliveries/{odd}/retry", {}),
            (f"/console/deliveries/{odd}/cancel", {}),
            (
                "/console/webhooks",
                {
                    "url": odd,
                    "rate_limit": odd,
                    "timeout": odd,
                    "ordering": odd,
                    "scheme": odd,
                    "schedule": odd,
                },
            ),
            ("/console/events/retry", {"status": odd, "since": odd}),
            ("/console/event-types", {"name": odd, "schema": odd, "example": odd}),
            ("/console/portal/branding", {"name": odd, "logo_url": odd, "accent_color": odd}),
            ("/console/portal/links", {"application": odd, "expires_in": odd}),
        ]
        for path, data in posts:
            r = await c.post(path, data={"csrf": csrf, **data})
            assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:300])
            assert "Traceback" not in r.text
    finally:
        await c.aclose()


async def test_a_body_that_is_not_a_form_is_refused(hookline: Running) -> None:
    c, csrf = await _signed_in(hookline)
    try:
        for body in (b"\xff\xfe\x00", b"csrf=" + csrf.encode() + b"&url=%ZZ", b"=" * 5000):
            r = await c.post(
                "/console/webhooks",
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert 400 <= r.status_code < 500, (body[:20], r.status_code, r.text[:300])
    finally:
        await c.aclose()
