"""Retention durations: what HOOKLINE_RETENTION accepts, and what it refuses at start."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hookline.config import Settings
from hookline.domain.retention import InvalidDuration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("2s", 2), ("1w", 604800),
     ("1.5h", 5400), ("3600", 3600), (" 7d ", 7 * 86400)],
)  # fmt: skip
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "30x", "-1d", "0s", "0", "1d2h", "inf", "nan"])
def test_refused(text: str) -> None:
    with pytest.raises(InvalidDuration):
        parse_duration(text)


def test_settings_default_and_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOOKLINE_RETENTION", raising=False)
    assert Settings().retention == 30 * 86400
    monkeypatch.setenv("HOOKLINE_RETENTION", "12h")
    assert Settings().retention == 43200
    monkeypatch.setenv("HOOKLINE_RETENTION", "a month")
    with pytest.raises(ValidationError, match="'a month' is not a duration"):
        Settings()
