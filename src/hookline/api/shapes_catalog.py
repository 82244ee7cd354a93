"""The documented shapes of the event catalog and of chain sources' answers.

Built by :func:`hookline.api.responses.event_type_out`, :func:`hookline.api.source_schemas.
source_out` and :func:`~hookline.api.source_schemas.address_out`; like :mod:`hookline.api.
shapes`, these models only describe the answers, and the schemathesis run checks them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class EventType(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    name: str
    object: Literal["event_type"]
    description: str
    # "schema" would shadow a BaseModel attribute; the alias is the field's name in JSON.
    schema_: Any = Field(alias="schema", description="a JSON Schema (draft 2020-12), or null")
    example: Any = Field(description="an example payload, or null")
    archived: bool
    archived_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class SourceHealth(BaseModel):
    head_block: int | None
    last_processed_block: int | None
    last_processed_hash: str | None
    lag: int | None
    last_error: str | None
    last_error_at: datetime | None


class Source(BaseModel):
    source_id: str
    object: Literal["source"]
    kind: str
    name: str
    rpc_url: str
    chain_id: int | None
    confirmations: list[int]
    poll_interval: float
    start_block: int | None
    status: Literal["active", "paused"]
    health: SourceHealth
    created_at: datetime
    updated_at: datetime


class SourceAddress(BaseModel):
    object: Literal["source_address"]
    address: str
    label: str | None
    created_at: datetime
