from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from hookline.cli.server import GC_YOUNG_THRESHOLD, _settle_memory


@pytest.fixture
def restored_gc() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_gc")
def test_start_up_objects_leave_the_collectors_sight_and_young_collections_are_rarer() -> None:
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    long_lived = [{"n": n} for n in range(1000)]
    _settle_memory()
    assert gc.get_freeze_count() >= len(long_lived)
    assert gc.get_threshold()[0] == GC_YOUNG_THRESHOLD > 700
    # Objects made after start-up are still collected: a cycle does not outlive a collection.
    cycle: list[object] = []
    cycle.append(cycle)
    assert gc.is_tracked(cycle)
    del cycle
    assert gc.collect() >= 1
