from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from hookline.config import Settings
from hookline.domain.retry import DEFAULT_SCHEDULE, RetryPolicy


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read HOOKLINE_* from the process; start each test without any."""
    for name in list(os.environ):
        if name.upper().startswith("HOOKLINE_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = Settings()
    assert settings.retry_schedule == DEFAULT_SCHEDULE
    assert settings.default_retry_policy == RetryPolicy(schedule=DEFAULT_SCHEDULE)
    assert settings.default_retry_policy.attempts_allowed == 8
    assert settings.egress_allow == ()
    assert settings.allow_networks == ()
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{Path('.hookline') / 'hookline.db'}"
    assert settings.is_sqlite
    assert (settings.host, settings.port) == ("127.0.0.1", 8000)
    assert settings.delivery_timeout == 15
    assert settings.max_body_bytes == 1024 * 1024


def test_egress_allow_is_comma_separated_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOKLINE_EGRESS_ALLOW", " 127.0.0.0/8, ::1/128,,")
    settings = Settings()
    assert settings.egress_allow == ("127.0.0.0/8", "::1/128")
    assert settings.allow_networks == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )


def test_egress_allow_may_be_given_as_a_sequence() -> None:
    assert Settings(egress_allow=("10.0.0.0/8 ",)).egress_allow == ("10.0.0.0/8",)


def test_a_bad_egress_network_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKLINE_EGRESS_ALLOW", "127.0.0.0/8,10.0.0.0/33")
    with pytest.raises(ValidationError, match=r"egress_allow: .*10\.0\.0\.0/33"):
        Settings()


def test_the_retry_schedule_is_comma_separated_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKLINE_RETRY_SCHEDULE", "1, 4,16.5")
    settings = Settings()
    assert settings.retry_schedule == (1.0, 4.0, 16.5)
    assert settings.default_retry_policy == RetryPolicy(schedule=(1.0, 4.0, 16.5))
    assert settings.default_retry_policy.attempts_allowed == 4


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1,-4", "schedule must be between 0 and 604800 seconds"),
        ("1,999999", "schedule must be between 0 and 604800 seconds"),
        (",".join(["1"] * 51), "schedule must be a list of at most 50 delays"),
        ("1,soon", "could not convert string to float"),
    ],
)
def test_an_unusable_retry_schedule_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str, message: str
) -> None:
    monkeypatch.setenv("HOOKLINE_RETRY_SCHEDULE", value)
    with pytest.raises(ValidationError, match=message):
        Settings()


def test_the_lease_must_outlive_a_send_by_five_seconds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKLINE_DELIVERY_TIMEOUT", "30")
    monkeypatch.setenv("HOOKLINE_LEASE_SECONDS", "34.9")
    with pytest.raises(ValidationError, match="lease_seconds must exceed delivery_timeout"):
        Settings()
    monkeypatch.setenv("HOOKLINE_LEASE_SECONDS", "35")
    assert Settings().lease_seconds == 35
    with pytest.raises(ValidationError, match="lease_seconds must exceed delivery_timeout"):
        Settings(delivery_timeout=60)


@pytest.mark.parametrize(
    ("given", "sqlalchemy", "is_sqlite"),
    [
        ("sqlite:///data/h.db", "sqlite+aiosqlite:///data/h.db", True),
        ("sqlite:////abs/h.db", "sqlite+aiosqlite:////abs/h.db", True),
        ("sqlite+aiosqlite:///h.db", "sqlite+aiosqlite:///h.db", True),
        (
            "postgresql://postgres@127.0.0.1/test",
            "postgresql+asyncpg://postgres@127.0.0.1/test",
            False,
        ),
        ("postgres://u:p@db:5432/h", "postgresql+asyncpg://u:p@db:5432/h", False),
        ("postgresql+asyncpg://u@h/d", "postgresql+asyncpg://u@h/d", False),
    ],
)
def test_database_urls_are_translated_to_async_drivers(
    monkeypatch: pytest.MonkeyPatch, given: str, sqlalchemy: str, is_sqlite: bool
) -> None:
    monkeypatch.setenv("HOOKLINE_DATABASE_URL", given)
    settings = Settings()
    assert settings.sqlalchemy_url == sqlalchemy
    assert settings.is_sqlite is is_sqlite


def test_the_default_database_lives_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path / 'hookline.db'}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HOOKLINE_PORT", "70000"),
        ("HOOKLINE_PORT", "http"),
        ("HOOKLINE_DELIVERY_TIMEOUT", "0"),
        ("HOOKLINE_MAX_BODY_BYTES", "10"),
        ("HOOKLINE_WORKER_CONCURRENCY", "0"),
        ("HOOKLINE_AUTO_MIGRATE", "perhaps"),
    ],
)
def test_out_of_range_values_are_refused(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_unknown_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="retry_shedule"):
        Settings(retry_shedule="1,2")  # type: ignore[call-arg]


def test_the_admin_key_never_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOKLINE_ADMIN_KEY", "very-secret-admin-key")
    settings = Settings()
    assert settings.admin_key is not None
    assert settings.admin_key.get_secret_value() == "very-secret-admin-key"
    assert "very-secret-admin-key" not in repr(settings)
    assert "very-secret-admin-key" not in str(settings.model_dump())
