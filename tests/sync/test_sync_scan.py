"""Scans compare a table with its mirror in chunks and find exactly the inserts, updates
and deletes since the last scan; a fast scan looks at key fields only; a scan is a chunk per
database call, so other database work runs between its chunks."""
from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, delete, select, update

from sync import example
from sync.cluster_tables import items_spec
from sync.models import DIRTY, MirrorRow, create_tables
from sync.scan import FAST, FULL, Scanner, scan
from sync.source import TableSource
from sync.spec import SpecError, TableSpec, decode_pk, encode_pk, row_hash, row_hashes

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


@pytest.fixture
def goods_table(tmp_path):
    """A connection to the example enterprise's goods table (one text key), 250 rows, not
    yet scanned."""
    with goods_db(tmp_path, 250).begin() as c:
        yield c


@pytest.fixture
def goods_conn(goods_table):
    """The goods table of `goods_table`, already scanned."""
    scan(goods_table, goods_source(), "E1", FULL, chunk=100)
    return goods_table


def test_a_text_keyed_table_in_an_existing_schema_finds_the_same(goods_table):
    c, goods = goods_table, goods_source()
    first = scan(c, goods, "E1", FULL, chunk=100)
    assert (first.inserts, first.chunks) == (250, 3)
    c.execute(update(example.goods).where(example.goods.c.goods_code == "G0007").values(maker="M"))
    c.execute(delete(example.goods).where(example.goods.c.goods_code.in_(["G0001", "G0200"])))
    c.execute(example.goods.insert().values(goods_code="H1", goods_name="h"))
    report = scan(c, goods, "E1", FULL, chunk=100)
    assert (report.inserts, report.updates, report.deletes) == (1, 1, 2)
    c.execute(example.goods.insert().values(goods_code="G0001", goods_name="back"))
    again = scan(c, goods, "E1", FULL, chunk=100)
    assert (again.inserts, again.updates, again.deletes) == (1, 0, 0)
    assert scan(c, goods, "E1", FAST, chunk=100).changes == 0


def goods_db(tmp_path, rows: int):
    """An engine on a new SQLite file holding the example enterprise's goods table (one
    text key) with ``rows`` rows, and the sync tables."""
    engine = create_engine(f"sqlite:///{tmp_path / 'g.db'}")
    with engine.begin() as c:
        example.metadata.create_all(c)
        create_tables(c)
        c.execute(example.goods.insert(), [{"goods_code": f"G{i:04d}", "goods_name": f"n{i}"}
                                           for i in range(rows)])
    return engine


def goods_source():
    return TableSource(items_spec(), example.goods, example.GOODS_MAPPING)


def test_an_insert_and_a_delete_in_the_same_chunk_are_both_found(goods_conn):
    goods_conn.execute(delete(example.goods).where(example.goods.c.goods_code == "G0050"))
    goods_conn.execute(example.goods.insert().values(goods_code="G0050A", goods_name="new"))
    report = scan(goods_conn, goods_source(), "E1", FULL, chunk=100)
    assert (report.inserts, report.updates, report.deletes) == (1, 0, 1)


def test_an_emptied_table_tombstones_every_row_reading_the_mirror_a_bounded_chunk_at_a_time(
        goods_conn):
    goods_conn.execute(delete(example.goods))
    scanner = Scanner(goods_source(), "E1", FULL, chunk=20)
    reads = []
    while True:
        more = scanner.step(goods_conn)
        reads.append(scanner.report.deletes)
        if not more:
            break
    assert scanner.report.deletes == 250
    assert len(reads) == 7  # the empty table, then the mirror 40 rows a step
    assert all(b - a <= 40 for a, b in zip([0] + reads, reads))
    assert scan(goods_conn, goods_source(), "E1", FULL, chunk=20).changes == 0


def test_a_table_whose_key_sorts_unlike_the_mirror_reports_no_false_changes(tmp_path):
    """A case-insensitive key column orders a, B, c, D; the mirror orders B, D, a, c: every
    chunk's ranges disagree, and point look-ups settle it."""
    meta = MetaData()
    codes = Table("codes", meta, Column("code", String(8, collation="NOCASE"), primary_key=True),
                  Column("label", String(8)))
    spec = TableSpec("codes", ("code",), ("code", "label"))
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    keys = [c + str(n) for n in range(30) for c in "aBcD"]
    with engine.begin() as c:
        meta.create_all(c)
        create_tables(c)
        c.execute(codes.insert(), [{"code": k, "label": "x"} for k in keys])
        source = TableSource(spec, codes)
        assert scan(c, source, "E1", FULL, chunk=7).inserts == 120
        assert scan(c, source, "E1", FULL, chunk=7).changes == 0
        c.execute(delete(codes).where(codes.c.code.in_(["a3", "D17"])))
        c.execute(update(codes).where(codes.c.code == "B9").values(label="y"))
        report = scan(c, source, "E1", FULL, chunk=7)
        assert (report.inserts, report.updates, report.deletes) == (0, 1, 2)
        assert scan(c, source, "E1", FAST, chunk=7).changes == 0


def test_row_fingerprints_tell_values_and_types_apart_and_agree_in_bulk():
    from decimal import Decimal

    rows = [("A", 1, None, 2.5), ("A", "1", None, 2.5), ("A", 1, "None", 2.5),
            ("A", 1, None, Decimal("2.5")), ("A", 1, None, Decimal("2.50")), ("商品", b"x", True, 0)]
    hashes = [row_hash(r) for r in rows]
    assert len(set(hashes)) == len(rows)
    assert row_hashes(rows) == hashes == row_hashes(iter(rows))
    shared = "same text"
    assert row_hash((shared, shared)) == row_hash(("same " + "text", "same text"[:]))
    assert all(len(h) == 32 for h in hashes)


def test_a_peer_scans_a_chunk_per_database_call(goods_conn, tmp_path):
    from sync.peer import SyncPeer
    from sync.side import Side, SideSettings
    from sync.spec import Role
    from twisted.internet import defer

    class OneConnection:  # the fixture's connection, as a Side's engine would lend it
        def begin(self):
            import contextlib
            return contextlib.nullcontext(goods_conn)

    side = Side(OneConnection(), Role.ENTERPRISE, "E1", {"items": goods_source()},
                SideSettings(scan_chunk=30))
    calls = []

    def run(f, *args):
        calls.append(f.__name__)
        return defer.maybeDeferred(f, *args)
    goods_conn.execute(update(example.goods).where(example.goods.c.goods_code == "G0007")
                       .values(maker="M"))
    report = []
    SyncPeer(side, client=None, clock=None, run=run).scan("items", FULL).addCallback(report.append)
    assert report[0].updates == 1 and report[0].rows == 250
    assert calls == ["scan_step"] * report[0].chunks and report[0].chunks == 9


@pytest_twisted.inlineCallbacks
def test_database_work_queued_during_a_scan_runs_between_its_chunks(tmp_path):
    """One database thread (the agent on SQLite): a request arriving while a table is
    scanned waits for one chunk, not for the whole table."""
    from twisted.internet import reactor

    from sync.peer import SyncPeer
    from sync.side import Side, SideSettings
    from sync.spec import Role
    from sync.threads import runner

    engine = goods_db(tmp_path, 1000)
    side = Side(engine, Role.ENTERPRISE, "E1", {"items": goods_source()},
                SideSettings(scan_chunk=100))
    run, pool = runner(reactor, 1, "test-sync-db")
    pool.startService()
    order = []
    step = side.scan_step

    def recorded_step(scanner):
        more = step(scanner)
        order.append("chunk")
        return more
    side.scan_step = recorded_step
    try:
        scanning = SyncPeer(side, client=None, clock=reactor, run=run).scan("items", FULL)
        yield run(lambda: order.append("request"))
        report = yield scanning
    finally:
        pool.stopService()
        engine.dispose()
    assert report.inserts == 1000 and report.chunks == 11
    assert order.index("request") <= 1 and order.count("chunk") == 11


def _marshal_v2(values) -> bytes:
    """Marshal format 2 of a tuple of plain values, written out by hand from the format
    (Python/marshal.c) so that the fingerprint is checked against something other than
    the module it is built on."""
    import struct

    out = [b"(" + struct.pack("<i", len(values))]
    for v in values:
        if v is None:
            out.append(b"N")
        elif v is True or v is False:
            out.append(b"T" if v else b"F")
        elif isinstance(v, int):
            out.append(b"i" + struct.pack("<i", v))
        elif isinstance(v, float):
            out.append(b"g" + struct.pack("<d", v))
        elif isinstance(v, bytes):
            out.append(b"s" + struct.pack("<i", len(v)) + v)
        else:
            data = v.encode("utf-8")
            out.append(b"u" + struct.pack("<i", len(data)) + data)
    return b"".join(out)


def _md5_of_marshal_v2(row) -> str:
    import hashlib

    return hashlib.md5(_marshal_v2(row)).hexdigest()


GOLDEN_ROW = ("G0001", "商品1", None, "", 0, 0.0, 2.5, b"\x1e\x00", True, "a'b\x1ec")


def test_row_fingerprints_are_md5_of_marshal_format_2_and_do_not_drift():
    """The stored mirror fingerprints are only comparable while these bytes stay the same:
    a change would mark every row of every table once after an upgrade."""
    assert row_hash(GOLDEN_ROW) == _md5_of_marshal_v2(GOLDEN_ROW)
    assert row_hash(GOLDEN_ROW) == "299c9bc39dabd4cbb7bd75388533ca2e"
    assert row_hashes([GOLDEN_ROW]) == [row_hash(GOLDEN_ROW)]


def test_row_fingerprints_tell_null_empty_zero_and_their_types_apart():
    edge = [(None,), ("",), (0,), (0.0,), (False,), (b"",), ("0",), ("\x00",), (b"\x00",),
            ("a", "b"), ("a\x1eb",), ("ab", ""), ("", "ab"), (1,), (1.0,), ("1",), (True,),
            ("商",), ("商".encode(),)]
    hashes = row_hashes(edge)
    assert len(set(hashes)) == len(edge)
    assert hashes == [_md5_of_marshal_v2(row) for row in edge]


def _counting_range_reads(scanner) -> list:
    """Counts the scanner's row-by-row reads of a mirror range (the fallback of a packed
    read on SQLite)."""
    calls = []
    for key in ((False, True), (True, True)):
        query = scanner.mirror_queries[key]

        def counted(*args, _fetch=query.fetch, **kw):
            calls.append(1)
            return _fetch(*args, **kw)
        query.fetch = counted
    return calls


def test_chunks_with_the_mirrors_keys_read_their_mirror_range_packed_on_sqlite(goods_conn):
    """Every chunk but the last (read in the tail) gets its mirror range as one packed row,
    whether its rows changed or not, and the changes are still found."""
    scanner = Scanner(goods_source(), "E1", FULL, chunk=100)
    calls = _counting_range_reads(scanner)
    while scanner.step(goods_conn):
        pass
    assert (scanner.report.rows, scanner.report.changes, calls) == (250, 0, [])
    goods_conn.execute(update(example.goods).where(example.goods.c.goods_code.in_(
        ["G0003", "G0150"])).values(model_no="X"))
    scanner = Scanner(goods_source(), "E1", FULL, chunk=100)
    calls = _counting_range_reads(scanner)
    while scanner.step(goods_conn):
        pass
    assert (scanner.report.updates, scanner.report.changes, calls) == (2, 2, [])


def test_keys_holding_the_pack_separator_cannot_pass_for_other_keys(tmp_path):
    """Table keys ["a<RS>b", "c"] and mirror keys ["a", "b<RS>c"] join to the same text
    with the same count: the scan must not take one list for the other (it would pair the
    wrong fingerprints and miss both deletes)."""
    from sync.scan import PACK_SEPARATOR as RS

    meta = MetaData()
    codes = Table("codes", meta, Column("code", String(8), primary_key=True),
                  Column("label", String(8)))
    spec = TableSpec("codes", ("code",), ("code", "label"))
    engine = create_engine(f"sqlite:///{tmp_path / 'rs.db'}")
    with engine.begin() as c:
        meta.create_all(c)
        create_tables(c)
        c.execute(codes.insert(), [{"code": k, "label": "x"} for k in ("a", f"b{RS}c", "d")])
        source = TableSource(spec, codes)
        assert scan(c, source, "E1", FULL, chunk=2).inserts == 3
        c.execute(delete(codes).where(codes.c.code.in_(["a", f"b{RS}c"])))
        c.execute(codes.insert(), [{"code": k, "label": "x"} for k in (f"a{RS}b", "c")])
        scanner = Scanner(source, "E1", FULL, chunk=2)
        calls = _counting_range_reads(scanner)
        while scanner.step(c):
            pass
        report = scanner.report
        assert (report.inserts, report.updates, report.deletes) == (2, 0, 2)
        assert calls  # the packed read was refused, the range read row by row
        again = Scanner(source, "E1", FULL, chunk=2)
        calls = _counting_range_reads(again)
        while again.step(c):
            pass
        assert (again.report.changes, len(calls)) == (0, 1)
        tomb = c.scalars(select(MirrorRow.pk).where(MirrorRow.tombstone.is_(True))).all()
        assert sorted(tomb) == ["a", f"b{RS}c"]
