"""gateway.heap: a long-running process's collector settings."""
import gc

import pytest

from gateway import heap


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _watched(obj) -> bool:
    return any(o is obj for o in gc.get_objects())


def test_settle_hides_the_start_up_heap_and_raises_the_thresholds(restored_gc):
    gc.unfreeze()
    start_up = {"kept": ["alive"]}
    assert _watched(start_up)

    heap.settle()

    assert not _watched(start_up)  # frozen: no collection walks it again
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == heap.THRESHOLDS
    made_after = {"made": ["later"]}
    assert _watched(made_after)  # what the run builds is still collected
