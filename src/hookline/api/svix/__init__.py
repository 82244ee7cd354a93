"""``/api/v1``: the Svix REST API over Hookline's own services, so the official Svix
SDKs work unmodified (docs/svix.md). A second transport, not a second implementation.

One module per resource; ``wire`` holds the shared format. Order matters: catch-alls
that refuse unsupported features are included after every supported route.
"""

from __future__ import annotations

from fastapi import APIRouter

from hookline.api.svix import (
    applications,
    attempts,
    auth,
    endpoints,
    event_types,
    health,
    messages,
    unsupported,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    applications.router,
    event_types.router,
    messages.router,
    attempts.router,
    endpoints.router,
    auth.router,
    unsupported.router,
)
