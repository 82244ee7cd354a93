"""Domain values with sensible defaults, for tests that need one to hand."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from hookline.domain.models import Endpoint, EndpointStatus, Message
from hookline.domain.signing import Scheme

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make_endpoint(**changes: Any) -> Endpoint:
    endpoint = Endpoint(
        id="ep_1",
        account_id="acct_1",
        app_id="app_1",
        url="https://example.com/hook",
        description="",
        event_types=None,
        secret="whsec_current",
        previous_secret=None,
        previous_secret_expires_at=None,
        scheme=Scheme.STANDARD,
        signature_header=None,
        retry_policy=None,
        headers={},
        status=EndpointStatus.ACTIVE,
        disabled_reason=None,
        failure_count=0,
        first_failure_at=None,
        last_failure_at=None,
        created_at=NOW,
        updated_at=NOW,
    )
    return dataclasses.replace(endpoint, **changes)


def make_message(**changes: Any) -> Message:
    message = Message(
        id="msg_1",
        account_id="acct_1",
        app_id="app_1",
        event_type="a",
        payload="{}",
        idempotency_key=None,
        created_at=NOW,
    )
    return dataclasses.replace(message, **changes)
