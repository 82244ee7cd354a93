from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from hookline.domain.models import (
    DeliveryStatus,
    Endpoint,
    EndpointStatus,
    Message,
    Trigger,
)
from hookline.domain.signing import Scheme
from tests.support.factories import make_endpoint

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def endpoint(
    previous_secret: str | None = None, previous_expires_at: datetime | None = None
) -> Endpoint:
    return make_endpoint(
        previous_secret=previous_secret,
        previous_secret_expires_at=previous_expires_at,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_previous_secret_signs_too_while_its_grace_period_lasts() -> None:
    ep = endpoint("whsec_previous", NOW + timedelta(hours=1))
    assert ep.signing_secrets(NOW) == ("whsec_current", "whsec_previous")


@pytest.mark.parametrize("expires", [NOW, NOW - timedelta(seconds=1)])
def test_an_expired_previous_secret_no_longer_signs(expires: datetime) -> None:
    assert endpoint("whsec_previous", expires).signing_secrets(NOW) == ("whsec_current",)


def test_without_a_previous_secret_only_the_current_one_signs() -> None:
    assert endpoint().signing_secrets(NOW) == ("whsec_current",)
    assert endpoint(None, NOW + timedelta(hours=1)).signing_secrets(NOW) == ("whsec_current",)
    # A previous secret with no expiry is treated as expired, never as kept forever.
    assert endpoint("whsec_previous", None).signing_secrets(NOW) == ("whsec_current",)


def test_entities_are_frozen() -> None:
    message = Message(
        id="msg_1",
        account_id="acct_1",
        app_id="app_1",
        event_type="a.b",
        payload="{}",
        idempotency_key=None,
        created_at=NOW,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        message.event_type = "c.d"  # type: ignore[misc]
    assert dataclasses.replace(message, event_type="c.d").event_type == "c.d"


def test_stored_enum_values_are_stable() -> None:
    # These strings are written to the database and shown by the API.
    assert [s.value for s in DeliveryStatus] == [
        "pending",
        "sending",
        "succeeded",
        "failed",
        "cancelled",
        "held",
    ]
    assert [s.value for s in EndpointStatus] == ["active", "disabled", "deleted"]
    assert [t.value for t in Trigger] == ["scheduled", "manual"]
    assert [s.value for s in Scheme] == ["standard", "sha256-hex"]
    assert DeliveryStatus("failed") is DeliveryStatus.FAILED
    assert f"{Trigger.MANUAL}" == "manual"
