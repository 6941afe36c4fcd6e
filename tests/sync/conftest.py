from __future__ import annotations

import pytest
import pytest_twisted

from tests.sync.harness import Pair


@pytest.fixture
def pair_factory(db_url, tmp_path):
    """Builds started Pairs: cluster on ``db_url`` (SQLite, or MariaDB when configured),
    enterprise on its own SQLite file; stops them after the test."""
    made = []

    def make(**kw):
        """A Deferred firing with the started pair (yield it inside a test)."""
        pair = Pair(db_url, f"sqlite:///{tmp_path / f'enterprise{len(made)}.db'}", **kw)
        made.append(pair)
        return pair.start().addCallback(lambda _: pair)

    yield make
    for pair in made:
        pytest_twisted.blockon(pair.stop())


@pytest.fixture
def pair(pair_factory):
    return pytest_twisted.blockon(pair_factory())
