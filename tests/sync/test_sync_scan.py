"""Scans compare a table with its mirror in chunks and find exactly the inserts, updates
and deletes since the last scan; a fast scan looks at key fields only."""
from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, delete, select, update

from sync.models import DIRTY, MirrorRow, create_tables
from sync.scan import FAST, FULL, scan
from sync.source import TableSource
from sync.spec import SpecError, TableSpec, decode_pk, encode_pk

meta = MetaData()
things = Table("things", meta, Column("num", Integer, primary_key=True),
               Column("label", String(20)), Column("qty", Integer), Column("note", String(20)))
SPEC = TableSpec("things", ("id",), ("id", "label", "qty", "note"), key_fields=("id", "qty"),
                 pk_types=("int",))


@pytest.fixture
def conn(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}")
    with engine.begin() as c:
        meta.create_all(c)
        create_tables(c)
        c.execute(things.insert(), [{"num": i, "label": f"t{i}", "qty": i, "note": "n"}
                                    for i in range(1, 1235)])
    with engine.begin() as c:
        yield c


def source():
    return TableSource(SPEC, things, {"id": "num"})


def test_the_first_scan_finds_every_row_as_an_insert_in_chunks(conn):
    report = scan(conn, source(), "E1", FULL, chunk=100)
    assert (report.rows, report.inserts, report.updates, report.deletes, report.chunks) == (
        1234, 1234, 0, 0, 13)
    assert scan(conn, source(), "E1", FULL, chunk=100).changes == 0


def test_a_scan_finds_exactly_the_changes_since_the_last_one(conn):
    scan(conn, source(), "E1", FULL, chunk=100)
    conn.execute(update(things).where(things.c.num.in_([5, 500, 1234])).values(label="changed"))
    conn.execute(delete(things).where(things.c.num.in_([100, 101])))
    conn.execute(things.insert().values(num=5000, label="new", qty=1))
    report = scan(conn, source(), "E1", FULL, chunk=100)
    assert (report.inserts, report.updates, report.deletes) == (1, 3, 2)
    dirty = conn.scalars(select(MirrorRow.pk).where(MirrorRow.flag == DIRTY)).all()
    assert len(dirty) == 1234 + 1  # nothing was sent yet: every row still waits
    tomb = conn.scalars(select(MirrorRow.pk).where(MirrorRow.tombstone.is_(True))).all()
    assert sorted(decode_pk(SPEC, t)[0] for t in tomb) == [100, 101]


def test_a_fast_scan_sees_key_fields_only_and_a_full_scan_sees_the_rest(conn):
    scan(conn, source(), "E1", FULL, chunk=100)
    conn.execute(update(things).where(things.c.num == 7).values(qty=70))
    conn.execute(update(things).where(things.c.num == 8).values(note="other"))
    assert scan(conn, source(), "E1", FAST, chunk=100).updates == 1
    assert scan(conn, source(), "E1", FULL, chunk=100).updates == 1  # row 8 now
    assert scan(conn, source(), "E1", FULL, chunk=100).changes == 0


def test_scopes_keep_their_mirrors_apart(conn):
    scan(conn, source(), "E1", FULL, chunk=500)
    assert scan(conn, source(), "E2", FULL, chunk=500).inserts == 1234


def test_integer_keys_keep_numeric_order_as_text():
    texts = [encode_pk(SPEC, (n,)) for n in (2, 10, 100)]
    assert texts == sorted(texts)
    assert decode_pk(SPEC, texts[1]) == (10,)


def test_a_spec_without_its_key_among_the_fields_is_refused():
    with pytest.raises(SpecError):
        TableSpec("t", ("id",), ("name",))
    with pytest.raises(SpecError):
        TableSpec("t", ("id",), ("name", "id"))


def test_a_text_keyed_table_is_scanned_joined_with_its_mirror_and_finds_the_same(tmp_path):
    from sync import example
    from sync.cluster_tables import items_spec

    engine = create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as c:
        example.metadata.create_all(c)
        create_tables(c)
        c.execute(example.goods.insert(), [{"goods_code": f"G{i:04d}", "goods_name": f"n{i}"}
                                           for i in range(250)])
        goods = TableSource(items_spec(), example.goods, example.GOODS_MAPPING)
        first = scan(c, goods, "E1", FULL, chunk=100)
        assert (first.inserts, first.chunks) == (250, 3)
        c.execute(update(example.goods).where(example.goods.c.goods_code == "G0007")
                  .values(maker="M"))
        c.execute(delete(example.goods).where(example.goods.c.goods_code.in_(["G0001", "G0200"])))
        c.execute(example.goods.insert().values(goods_code="H1", goods_name="h"))
        report = scan(c, goods, "E1", FULL, chunk=100)
        assert (report.inserts, report.updates, report.deletes) == (1, 1, 2)
        c.execute(example.goods.insert().values(goods_code="G0001", goods_name="back"))
        again = scan(c, goods, "E1", FULL, chunk=100)
        assert (again.inserts, again.updates, again.deletes) == (1, 0, 0)
        assert scan(c, goods, "E1", FAST, chunk=100).changes == 0
