"""Health and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import PlainTextResponse, Response

from hookline import __version__
from hookline.api import shapes
from hookline.api.deps import SystemDep
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON

router = APIRouter(route_class=GuardedRoute, tags=["system"])


@router.get("/health", response_class=JSON, response_model=shapes.Health)
async def health(sys: SystemDep) -> Any:
    """200 when the database answers; 503 (database_unavailable) when it does not."""
    await sys.db.ping()
    return JSON({"status": "ok", "version": __version__, "database": sys.db.dialect})


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
)
async def metrics(sys: SystemDep) -> Response:
    """Counters and gauges for Prometheus (text format, not JSON)."""
    return Response(generate_latest(sys.metrics.registry), media_type=CONTENT_TYPE_LATEST)
