"""The store's column types bind values as SQLAlchemy's own types would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from hookline.store.sealing import Sealer, generate_key
from hookline.store.tables import SealedJSON, UTCDateTime

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


# -- SealedJSON ------------------------------------------------------------------------


def _sealing(dialect: Dialect) -> Dialect:
    dialect.hookline_sealer = Sealer([generate_key()])  # type: ignore[attr-defined]
    return dialect


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.asyncpg.dialect()])
@given(
    value=st.dictionaries(st.text(), st.text(), max_size=4)
    | st.lists(st.integers() | st.text(), max_size=3)
)
def test_sealed_json_binds_the_json_string_of_its_sealed_text(
    dialect: Dialect, value: object
) -> None:
    dialect = _sealing(dialect)
    impl = SealedJSON().dialect_impl(dialect)
    bind = impl.bind_processor(dialect)
    result = impl.result_processor(dialect, None)
    assert bind is not None
    assert result is not None
    bound = bind(value)
    # The column holds a JSON string: the sealed text, which opens to the document.
    sealed = json.loads(bound)
    assert isinstance(sealed, str)
    assert sealed.startswith("fernet:")
    assert result(sealed if dialect.name == "postgresql" else bound) == value


def test_sealed_json_binds_none_and_documents_orjson_refuses() -> None:
    dialect = _sealing(sqlite.dialect())
    impl = SealedJSON().dialect_impl(dialect)
    bind = impl.bind_processor(dialect)
    result = impl.result_processor(dialect, None)
    assert bind is not None
    assert result is not None
    # None as the JSON column writes it.
    reference = sa.JSON().dialect_impl(dialect).bind_processor(dialect)
    assert reference is not None
    assert bind(None) == reference(None) == "null"
    # Keys that are not strings and ints past 64 bits: written as json.dumps would.
    assert result(bind({1: "a"})) == {"1": "a"}
    assert result(bind([2**70])) == [2**70]


def test_sealed_json_round_trips_through_a_sqlite_file(tmp_path: Path) -> None:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    _sealing(engine.dialect)
    table = sa.Table("t", sa.MetaData(), sa.Column("doc", SealedJSON()))
    docs = [{"X-Token": "s3cret", "é": "ü"}, None, ["a"]]
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(sa.insert(table), [{"doc": d} for d in docs])
        raw = conn.execute(sa.text("SELECT doc FROM t")).scalars().all()
        assert conn.execute(sa.select(table.c.doc)).scalars().all() == docs
    engine.dispose()
    assert raw[1] == "null"
    assert all("s3cret" not in r and r.startswith('"fernet:') for r in (raw[0], raw[2]))
