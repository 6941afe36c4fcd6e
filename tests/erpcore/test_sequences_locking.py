"""Taking numbers for several enterprises at once (``sequences.reserve_many``) must hold
only those enterprises' sequence rows: two dispatcher batches on two gateways take the
numbers of overlapping enterprises, and a batch that waited for a row it never asked for
deadlocked with the batch holding it (MariaDB scans this small table for a locking read)."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from erpcore import orders, sequences
from erpcore.db import session_scope
from erpcore.tenants import Enterprise


@pytest.fixture
def enterprises(seeded):
    """Twenty enterprises, each with its sequence row: (sessionmaker, ids in order). With
    most of them asked for at once, MariaDB's plan for the read is a scan of the table."""
    with session_scope(seeded) as session:
        session.add_all([Enterprise(code=f"E{n}", name=f"企业{n}", extension=f"{n:02d}") for n in range(3, 21)])
        session.flush()
        ids = sorted(session.scalars(select(Enterprise.id)))
        for enterprise_id in ids:
            orders.reserve_numbers(session, enterprise_id, 1)
    return seeded, ids


def test_numbers_of_many_enterprises_do_not_wait_for_another_ones_row(enterprises):
    sessionmaker, ids = enterprises
    middle = ids[len(ids) // 2]
    asked = {enterprise_id: 1 for enterprise_id in ids if enterprise_id != middle}
    if sessionmaker.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: there are no row locks to wait for")
    holder = sessionmaker()
    taker = sessionmaker()
    try:
        holder.begin()
        assert orders.reserve_numbers(holder, middle, 1) == ["1002"]  # holds the middle row
        taker.begin()
        taker.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
        assert orders.reserve_many(taker, asked) == {enterprise_id: ["1002"] for enterprise_id in asked}
        taker.commit()
        holder.commit()
    finally:
        taker.close()
        holder.close()
    with session_scope(sessionmaker) as session:
        assert orders.reserve_many(session, {ids[0]: 1, middle: 1}) == {ids[0]: ["1003"], middle: ["1003"]}


def test_held_numbers_stay_held_until_the_transaction_ends_and_others_do_not(enterprises):
    """``hold`` (a dispatcher batch before its first round): the rows held wait for the
    holder; the others are free."""
    from sqlalchemy.exc import OperationalError

    sessionmaker, ids = enterprises
    if sessionmaker.kw["bind"].dialect.name == "sqlite":
        pytest.skip("SQLite has one writer at a time: there are no row locks to wait for")
    first, middle, last = ids[0], ids[len(ids) // 2], ids[-1]
    holder = sessionmaker()
    taker = sessionmaker()
    try:
        holder.begin()
        sequences.hold(holder, [last, first, first])
        taker.begin()
        taker.execute(text("SET SESSION innodb_lock_wait_timeout = 1"))
        assert orders.reserve_numbers(taker, middle, 1) == ["1002"]
        sequences.hold(taker, [eid for eid in ids if eid not in (first, last)])  # most rows: a scan, no wait
        with pytest.raises(OperationalError, match="1205"):
            orders.reserve_numbers(taker, last, 1)
        taker.rollback()
        assert orders.reserve_many(holder, {first: 1, last: 1}) == {first: ["1002"], last: ["1002"]}
        holder.commit()
    finally:
        taker.close()
        holder.close()


def test_holding_numbers_on_sqlite_sends_nothing(seeded):
    if seeded.kw["bind"].dialect.name != "sqlite":
        pytest.skip("SQLite only")
    from sqlalchemy import event

    seen = []
    engine = seeded.kw["bind"]

    def record(*args):
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        with session_scope(seeded) as session:
            sequences.hold(session, [1, 2])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert not any("document_sequences" in statement for statement in seen)
