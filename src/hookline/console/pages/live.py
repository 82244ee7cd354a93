"""The stream pages follow to show new attempts without reloading: an ``attempt`` event
each time the newest attempt the viewer may see changes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Query
from starlette.responses import Response, StreamingResponse

from hookline.console.registry import PAGES
from hookline.console.web import Page, page
from hookline.errors import StoreUnavailable

POLL_SECONDS = 1.0
# EventSource reconnects by itself (after the retry: below): streams are kept short.
STREAM_SECONDS = 120.0


@PAGES.get("/live", portal=True)
async def live(
    p: Annotated[Page, Depends(page)],
    webhook: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    account = p.account_id
    endpoint_id = (await p.webhook(webhook)).id if webhook else None
    app_id = p.viewer.app_id

    async def newest() -> str | None:
        return await p.system.deliveries.newest_attempt_id(
            account, app_id=app_id, endpoint_id=endpoint_id
        )

    stopping: asyncio.Event = p.request.app.state.stopping

    async def events() -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        end = loop.time() + STREAM_SECONDS
        seen = await newest()
        yield b"retry: 2000\n\n"
        while loop.time() < end:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), POLL_SECONDS)
            if stopping.is_set() or await p.request.is_disconnected():
                return
            try:
                current = await newest()
            except StoreUnavailable:
                continue
            if current != seen:
                seen = current
                yield f"event: attempt\ndata: {current}\n\n".encode()
            else:
                yield b": idle\n\n"

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
