"""hookline_receiver's helpers in real Starlette, FastAPI, Flask and aiohttp servers,
receiving real signed deliveries from Hookline."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from aiohttp import web
from fastapi import Depends, FastAPI
from flask import Flask
from starlette.applications import Starlette
from werkzeug.serving import make_server

from hookline.api.server import Server
from hookline.domain.signing import generate_secret
from hookline_receiver import Deduplicator, Verifier
from hookline_receiver.aiohttp import webhook_handler
from hookline_receiver.flask import webhook_view
from hookline_receiver.starlette import verified_event, webhook_endpoint
from tests.support.server import Running, settled

FRAMEWORKS = ["starlette", "fastapi", "flask", "aiohttp"]


@dataclass
class App:
    """A user's application: fails the first time it handles each event."""

    secret: str = field(default_factory=generate_secret)
    handled: list[Any] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)
    url: str = ""

    def handle(self, event: Any) -> None:
        if event["id"] not in self.failed:
            self.failed.add(event["id"])
            raise RuntimeError("the application is not ready yet")
        self.handled.append(event)


async def _uvicorn(app: Any) -> tuple[str, Callable[[], Any]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.setblocking(False)
    server = Server(uvicorn.Config(app, lifespan="off", access_log=False, log_level="critical"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)

    async def stop() -> None:
        server.should_exit = True
        await task

    return f"http://127.0.0.1:{sock.getsockname()[1]}/hooks", stop


@pytest.fixture(params=FRAMEWORKS)
async def user_app(request: pytest.FixtureRequest) -> AsyncIterator[App]:
    app = App()
    verifier, dedupe = Verifier(app.secret), Deduplicator()
    stop: Callable[[], Any]
    if request.param == "starlette":
        star = Starlette()
        star.add_route("/hooks", webhook_endpoint(verifier, app.handle, dedupe=dedupe), ["POST"])
        app.url, stop = await _uvicorn(star)
    elif request.param == "fastapi":
        api = FastAPI()
        verified = Depends(verified_event(verifier))

        @api.post("/hooks")
        async def hooks(event: Any = verified) -> dict[str, bool]:
            if not dedupe.claim(event["id"]):
                return {"duplicate": True}
            try:
                app.handle(event)
            except RuntimeError:
                dedupe.release(event["id"])
                raise
            return {"ok": True}

        app.url, stop = await _uvicorn(api)
    elif request.param == "flask":
        flask_app = Flask("receiver")
        flask_app.add_url_rule(
            "/hooks", view_func=webhook_view(verifier, app.handle, dedupe=dedupe), methods=["POST"]
        )
        server = make_server("127.0.0.1", 0, flask_app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        app.url = f"http://127.0.0.1:{server.server_port}/hooks"

        async def stop() -> None:
            await asyncio.to_thread(server.shutdown)
            server.server_close()
    else:
        aio = web.Application()
        aio.router.add_post("/hooks", webhook_handler(verifier, app.handle, dedupe=dedupe))
        runner = web.AppRunner(aio, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        app.url = f"http://127.0.0.1:{port}/hooks"
        stop = runner.cleanup
    yield app
    await stop()


async def test_signed_deliveries_are_verified_retried_and_handled_once(
    hookline: Running, user_app: App
) -> None:
    acme = await hookline.new_account()
    hook = (
        await acme.post(
            "/v1/webhooks",
            json={
                "callback_url": user_app.url,
                "secret": user_app.secret,
                "retry_policy": {"schedule": [0.05, 0.05]},
            },
        )
    ).json()
    # The same application behind a webhook with another secret: refused.
    forged = (
        await acme.post(
            "/v1/webhooks",
            json={"callback_url": user_app.url + "?forged=1", "retry_policy": {"schedule": [0.05]}},
        )
    ).json()
    event = (await acme.post("/v1/events", json={"type": "invoice.paid"})).json()["event_id"]
    detail = await settled(acme, event)
    by_hook = {d["webhook_id"]: d for d in detail["deliveries"]}
    ours = by_hook[hook["webhook_id"]]
    # The handler failed once (500), the retry was handled.
    assert [a["status_code"] for a in ours["attempts"]] == [500, 200]
    assert [e["id"] for e in user_app.handled] == [event]
    assert {a["status_code"] for a in by_hook[forged["webhook_id"]]["attempts"]} == {400}

    # Sent again (same webhook-id): acknowledged, not handled twice.
    r = await acme.post(f"/v1/deliveries/{ours['delivery_id']}/retry")
    assert r.status_code == 202
    again = await settled(acme, event)
    ours = {d["webhook_id"]: d for d in again["deliveries"]}[hook["webhook_id"]]
    assert len(ours["attempts"]) == 3
    assert ours["attempts"][-1]["status_code"] == 200
    assert len(user_app.handled) == 1
