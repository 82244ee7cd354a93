"""The store's column types bind values as SQLAlchemy's own types would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from hookline.store.tables import UTCDateTime

SQLITE = sqlite.dialect()
# What SQLAlchemy's SQLite DATETIME writes for a naive UTC datetime.
REFERENCE = sqlite.DATETIME().bind_processor(SQLITE)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(9998, 12, 31),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=5, minutes=30))]
        ),
    )
)
def test_sqlite_text_is_sqlalchemys_for_the_utc_time(value: datetime) -> None:
    bind = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert bind is not None
    assert REFERENCE is not None
    assert bind(value) == REFERENCE(value.astimezone(UTC).replace(tzinfo=None))


def test_sqlite_refuses_a_naive_time_and_passes_none() -> None:
    bind = UTCDateTime().dialect_impl(SQLITE).bind_processor(SQLITE)
    assert bind is not None
    assert bind(None) is None
    with pytest.raises(ValueError, match="naive"):
        bind(datetime(2026, 1, 1))


def test_a_sqlite_file_holds_the_text_and_compares_by_it(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UTCDateTime()))
    plus_one = timezone(timedelta(hours=1))
    times = [datetime(2026, 12, 7, 21, 5, 0, us, tzinfo=plus_one) for us in (0, 42, 999_999)]
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(sa.insert(table), [{"at": at} for at in times])
        stored = conn.execute(sa.text("SELECT at FROM t ORDER BY at")).scalars().all()
        later = conn.execute(sa.select(table.c.at).where(table.c.at > times[0])).scalars()
        assert sorted(later) == times[1:]
        assert conn.execute(sa.select(table.c.at)).scalars().all() == times
    engine.dispose()
    assert stored == [
        "2026-12-07 20:05:00.000000",
        "2026-12-07 20:05:00.000042",
        "2026-12-07 20:05:00.999999",
    ]


def test_postgresql_keeps_aware_datetimes() -> None:
    dialect = postgresql.dialect()
    impl = UTCDateTime().dialect_impl(dialect)
    at = datetime(2026, 12, 7, 21, 5, tzinfo=timezone(timedelta(hours=1)))
    bound = impl.process_bind_param(at, dialect)
    assert bound == at
    assert bound is not None
    assert bound.tzinfo == UTC
