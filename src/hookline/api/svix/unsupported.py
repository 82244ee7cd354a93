"""Svix resources that mean nothing for a self-hosted Hookline, or that it does not
have: each answers ``501 not_supported`` rather than a bare 404."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.responses import Response

from hookline.api.parsed import GuardedRoute
from hookline.api.svix import wire

router = APIRouter(route_class=GuardedRoute, prefix=wire.PREFIX, include_in_schema=False)
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
FEATURES = {
    "environment": "environments",
    "integration": "integrations",
    "background-task": "background tasks",
    "auth": "this authentication operation (app-portal-access is supported)",
    "stats": "usage statistics",
    "operational-webhook": "operational webhook endpoints (use /v1/webhooks)",
    "transformation-template": "transformations",
    "ingest": "Svix Ingest",
    "stream": "Svix Stream",
    "connector": "connectors",
    "event-type/import": "importing event types from OpenAPI",
}


def _refuse(what: str) -> Callable[..., Awaitable[Response]]:
    async def refuse() -> Response:
        raise wire.unsupported(what)

    return refuse


for _path, _what in FEATURES.items():
    router.add_api_route(f"/{_path}", _refuse(_what), methods=METHODS)
    router.add_api_route(f"/{_path}/{{rest:path}}", _refuse(_what), methods=METHODS)
router.add_api_route(
    "/app/{app_id}/msg/{rest:path}", _refuse("this message operation"), methods=METHODS
)
router.add_api_route(
    "/app/{app_id}/{rest:path}", _refuse("this application operation"), methods=METHODS
)
