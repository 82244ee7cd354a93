"""Operator actions (admin key only): the retention purge."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hookline.api import shapes
from hookline.api.deps import PrincipalDep, SystemDep
from hookline.api.openapi import errors
from hookline.api.parsed import GuardedRoute
from hookline.api.responses import JSON, ts
from hookline.api.schemas import Purge

router = APIRouter(route_class=GuardedRoute, prefix="/v1/admin", tags=["admin"])

# One request purges for at most this long and says whether it finished, so no HTTP
# client times out on a large backlog; `hookline purge` repeats it until it has.
PURGE_BUDGET_SECONDS = 10.0


@router.post(
    "/purge", response_class=JSON, response_model=shapes.PurgeResult, responses=errors(409)
)
async def purge(body: Purge, who: PrincipalDep, sys: SystemDep) -> Any:
    """Remove what is past HOOKLINE_RETENTION now (admin): finished and held deliveries,
    their attempts and unused request bodies, and events left without deliveries.
    `dry_run` counts instead. 409 purge_running while another purge runs."""
    who.require_admin()
    report = await sys.retention.purge(
        dry_run=body.dry_run,
        budget=PURGE_BUDGET_SECONDS,
        on_batch=sys.metrics.count_purged,
    )
    return JSON(
        {
            "dry_run": body.dry_run,
            "cutoff": ts(report.cutoff),
            "removed": report.counts.as_dict(),
            "complete": report.complete,
        }
    )
