"""Health and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from hookline import __version__
from hookline.api.deps import SystemDep
from hookline.api.responses import JSON

router = APIRouter(tags=["system"])


@router.get("/health", response_class=JSON)
async def health(sys: SystemDep) -> Any:
    """200 when the database answers; 503 (database_unavailable) when it does not."""
    await sys.db.ping()
    return JSON({"status": "ok", "version": __version__, "database": sys.db.dialect})


@router.get("/metrics")
async def metrics(sys: SystemDep) -> Response:
    return Response(generate_latest(sys.metrics.registry), media_type=CONTENT_TYPE_LATEST)
