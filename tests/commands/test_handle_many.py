"""A dispatcher batch through ``commands.handle_many`` (ORDER commands planned as they come
and carried out together) answers and writes exactly what ``handle`` one MO at a time
does in the same transaction: also when a sender's later command needs its earlier
order, when planning refuses, and when carrying out the group fails for one of them."""
from __future__ import annotations

import pytest

import commands
from commands.senders import prepare
from erpcore.demo import DEMO_SERVICE_CODE
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, OTHER
from tests.commands.test_prefetch import (  # noqa: F401 - world is a fixture
    OTHER_NUMBER, TRICKY_BATCH, counting, mo, open_transaction, snapshot, world,
)

@pytest.fixture(autouse=True)
def one_moment(monkeypatch):
    """Every audit entry at one moment: STATUS replies name the minute an order was made,
    and the runs compared would differ when a minute turns between them."""
    from datetime import datetime

    from erpcore import audit

    monkeypatch.setattr(audit, "clock", lambda: datetime(2026, 11, 22, 9, 30))


ORDERS_BATCH = [
    mo(CLERK, "DH X100 1"),  # 1004
    mo(KEEPER, "ORDER X100 2"),  # a storekeeper may not order: refused while planning
    mo(OTHER, "DH X100 1 OWH", OTHER_NUMBER),  # OTHER's 1002, approved at once (no rules)
    mo(CLERK, "订货 N200 1"),  # the clerk's second: 1005, after 1004
    mo(CLERK, "CX 1005"),  # needs the order just made
    mo(MANAGER, "DH X100 1"),  # no site of their own: refused while planning
    mo(KEEPER, "DH NOPE 1"),  # no such item
    mo(KEEPER, "STOCK X100"),
    mo(MANAGER, "Y 1004"),
]


def run(sessionmaker, mos, together: bool, prepared: bool = True, statements: list | None = None):
    """(replies, rows left) of ``mos`` in one transaction, rolled back afterwards."""
    session = sessionmaker()
    try:
        with session.begin():
            open_transaction(session)
            messages = [(sms, DEMO_SERVICE_CODE) for sms in mos]
            if prepared:
                prepare(session, messages)
            with counting(session, statements):
                with session.begin_nested():
                    if together:
                        outcomes = commands.handle_many(session, messages)
                    else:
                        outcomes = [commands.handle(session, sms, code) for sms, code in messages]
            replies = [(o.reply, o.ok, o.command, o.enterprise_id, o.user_id) for o in outcomes]
            left = snapshot(session)
            session.rollback()
    finally:
        session.close()
    return replies, left


@pytest.mark.parametrize("batch", [ORDERS_BATCH, TRICKY_BATCH, TRICKY_BATCH + ORDERS_BATCH],
                         ids=["orders", "tricky", "both"])
@pytest.mark.parametrize("prepared", [True, False], ids=["prepared", "unprepared"])
def test_together_answers_and_writes_as_one_at_a_time(world, batch, prepared):
    alone = run(world, batch, together=False, prepared=prepared)
    together = run(world, batch, together=True, prepared=prepared)
    assert together[0] == alone[0]
    assert together[1] == alone[1]


def test_the_orders_batch_says_what_it_should(world):
    """Pins the answers the comparison is about, so that both runs cannot be wrong alike."""
    replies, left = run(world, ORDERS_BATCH, together=True)
    texts = [reply for reply, *_rest in replies]
    assert "1004" in texts[0] and "1005" in texts[3]
    assert "1002" in texts[2]  # OTHER's own sequence
    assert replies[4][1] is True and "1005" in texts[4]  # STATUS saw the order made just before
    assert [ok for _reply, ok, *_rest in (replies[1], replies[5], replies[6])] == [False, False, False]
    assert replies[8][1] is True  # the manager approves an order of this very batch
    numbers = sorted(number for _eid, number, *_rest in left["orders"])
    assert numbers == ["1001", "1001", "1002", "1002", "1003", "1004", "1005"]


def test_the_orders_of_a_batch_are_inserted_in_one_statement(world):
    """Three orders in two enterprises: on MariaDB one INSERT of orders and one of their
    lines, one round trip each. (SQLAlchemy runs an INSERT .. RETURNING row by row on
    SQLite, which has no round trip: there it only must not take more than alone.)"""
    batch = [mo(CLERK, "DH X100 1"), mo(CLERK, "DH N200 2"), mo(OTHER, "DH X100 1 OWH", OTHER_NUMBER)]

    def inserts(together):
        seen: list[str] = []
        replies, _left = run(world, batch, together=together, statements=seen)
        assert all(ok for _reply, ok, *_rest in replies)
        return ([s for s in seen if s.lstrip().upper().startswith("INSERT INTO ORDERS ")],
                [s for s in seen if s.lstrip().upper().startswith("INSERT INTO ORDER_LINES ")])

    orders_together, lines_together = inserts(True)
    orders_alone, lines_alone = inserts(False)
    assert len(orders_alone) == len(lines_alone) == 3
    if world.kw["bind"].dialect.name == "sqlite":
        assert len(orders_together) <= 3 and len(lines_together) <= 3
    else:
        assert len(orders_together) == len(lines_together) == 1


def test_an_order_only_the_writes_refuse_costs_only_itself(world):
    """2,000,000 is past an order's largest quantity: planning lets it through, creating
    refuses it, so the group is rolled back and each order made alone: the others still
    get their numbers, it gets the refusal it would get alone."""
    batch = [mo(CLERK, "DH X100 1"), mo(CLERK, "DH X100 2000000"), mo(OTHER, "DH X100 1 OWH", OTHER_NUMBER)]
    alone = run(world, batch, together=False)
    together = run(world, batch, together=True)
    assert together == alone
    replies, left = together
    assert [ok for _reply, ok, *_rest in replies] == [True, False, True]
    assert sorted(number for _eid, number, *_rest in left["orders"]) == [
        "1001", "1001", "1002", "1002", "1003", "1004"]


def test_approvals_whose_receipts_fail_together_are_each_carried_out_alone(world, monkeypatch):
    """The group's approval is written, then booking its receipt fails (once: a clash only
    the group meets): the group's savepoint rolls the approval back and the approval runs
    alone, finding its order as the database has it again (awaiting approval), not as the
    group left it in memory (approved)."""
    from commands import approve

    together = approve.fulfilment.fulfil_across
    calls = []

    def clash_once(session, requests, *args, **kwargs):
        calls.append(len(requests))
        if len(calls) == 1:
            raise RuntimeError("a clash only the group meets")
        return together(session, requests, *args, **kwargs)

    batch = [mo(MANAGER, "Y 1001"), mo(CLERK, "STOCK X100")]
    alone = run(world, batch, together=False)
    monkeypatch.setattr(approve.fulfilment, "fulfil_across", clash_once)
    grouped = run(world, batch, together=True)
    assert calls == [1, 1]  # the group's, then the approval alone
    assert grouped == alone
    assert [ok for _reply, ok, *_rest in grouped[0]] == [True, True]


def test_a_group_whose_transaction_the_database_gave_up_is_not_carried_out_alone(world, monkeypatch):
    """A deadlock victim's transaction is gone (MariaDB rolls it back, savepoints and
    all): carrying the approvals out alone would write outside it, so the failure goes
    up to the dispatcher, which gives the batch's MOs back to be run again."""
    from sqlalchemy.exc import OperationalError

    from commands import approve

    calls = []

    def deadlocked(session, requests, *args, **kwargs):
        calls.append(len(requests))
        raise OperationalError("UPDATE stock_levels", {}, Exception("(1213, 'Deadlock found')"))

    monkeypatch.setattr(approve.fulfilment, "fulfil_across", deadlocked)
    with pytest.raises(OperationalError):
        run(world, [mo(MANAGER, "Y 1001"), mo(CLERK, "STOCK X100")], together=True)
    assert calls == [1]


def test_a_batch_holds_the_numbers_of_all_its_ordering_enterprises_before_its_first_round(world):
    """The clerk's second order waits for a round after the first's STATUS, OTHER orders
    in the first: the numbers of both enterprises are locked in one statement before
    anything is written, so the rounds take no sequence row another batch could hold
    first (MariaDB; SQLite has one writer and holds nothing)."""
    batch = [mo(CLERK, "DH X100 1"), mo(CLERK, "CX 1004"), mo(CLERK, "DH N200 1"),
             mo(OTHER, "DH X100 1 OWH", OTHER_NUMBER)]
    seen: list[str] = []
    replies, _left = run(world, batch, together=True, statements=seen)
    assert [ok for _reply, ok, *_rest in replies] == [True, True, True, True]
    writes = [s for s in seen if s.lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    holds = [s for s in writes if "SET next_value=document_sequences.next_value WHERE" in " ".join(s.split())]
    if world.kw["bind"].dialect.name == "sqlite":
        assert holds == []
        return
    assert len(holds) == 1 and writes[0] == holds[0], writes[:3]
