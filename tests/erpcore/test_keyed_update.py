"""erpcore.keyed_update: each row its own value in one statement, a few shapes for every
batch size."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, select, update

from erpcore.keyed_update import BUCKETS, KeyedUpdate

_META = MetaData()
_PROBE = Table("keyed_update_probe", _META,
               Column("id", Integer, primary_key=True, autoincrement=False),
               Column("label", String(20), nullable=False),
               Column("tag", String(10), nullable=False))

_LABEL_BY_ID = KeyedUpdate(_PROBE.c.id, lambda label: update(_PROBE).values(label=label, tag=bindparam("tag")))


@pytest.fixture
def probe(engine):
    _META.create_all(engine)
    with engine.begin() as conn:
        conn.execute(_PROBE.insert(), [{"id": n, "label": "old", "tag": "-"} for n in range(1, 601)])
    yield engine
    _META.drop_all(engine)


def _rows(engine) -> dict[int, tuple[str, str]]:
    with engine.connect() as conn:
        return {row.id: (row.label, row.tag) for row in conn.execute(select(_PROBE))}


@pytest.mark.parametrize("count", [1, 3, 4, 5, 17, 256, 300])
def test_each_row_gets_its_own_value_and_no_other_row_changes(probe, count):
    chosen = {n: f"new-{n}" for n in range(600, 600 - 2 * count, -2)}  # every other row, from the top

    with probe.begin() as conn:
        for statement, params in _LABEL_BY_ID.statements(chosen, tag="t"):
            conn.execute(statement, params)

    rows = _rows(probe)
    assert {n: rows[n] for n in chosen} == {n: (label, "t") for n, label in chosen.items()}
    assert all(rows[n] == ("old", "-") for n in rows if n not in chosen)


def test_batches_of_different_sizes_share_a_compiled_statement(probe):
    hits = []

    @event.listens_for(probe, "after_cursor_execute")
    def seen(conn, cursor, statement, parameters, context, executemany):
        hits.append(context.cache_hit)

    with probe.begin() as conn:
        for count in (3, 2, 4, 1, 10, 16, 9):  # buckets 4 and 16
            for statement, params in _LABEL_BY_ID.statements({n: "x" for n in range(1, count + 1)}, tag="t"):
                conn.execute(statement, params)

    misses = [n for n, hit in enumerate(hits) if hit == probe.dialect.CACHE_MISS]
    assert misses == [0, 4]  # the first 4-row shape and the first 16-row shape, nothing else
    chunks = list(_LABEL_BY_ID.statements({n: "x" for n in range(1, BUCKETS[-1] * 2 + 100)}))
    assert len(chunks) == 3 and len({statement for statement, _ in chunks}) == 1  # the largest shape


def test_nothing_to_set_is_no_statement():
    assert list(_LABEL_BY_ID.statements({})) == []
