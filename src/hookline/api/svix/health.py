"""``/api/v1/health``: what the SDKs' health check calls; no key needed, as in Svix."""

from __future__ import annotations

from starlette.responses import Response

from hookline.api.svix import wire

router = wire.router("/health")


@router.get("", status_code=204)
async def health() -> Response:
    return wire.no_content()
