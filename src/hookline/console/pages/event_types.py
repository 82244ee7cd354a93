"""event_types pages."""

from __future__ import annotations
