"""Reading a batch's rows ahead (commands.senders.prepare -> commands.prefetch) changes
nothing but the number of queries: a batch of MOs run in one transaction answers the same
and leaves the same rows with or without it, also when two commands of the batch touch
the same order or stock level, or another tenant names the same order number."""
from __future__ import annotations

import re
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

import commands
from commands.senders import prepare
from erpcore.db import session_scope
from erpcore.demo import DEMO_SERVICE_CODE, seed_demo
from erpcore.users import User
from tests.commands.cmd_helpers import CLERK, FINANCE, KEEPER, MANAGER, OTHER, demo
from tests.commands.conftest import DEMO_NUMBER, Sms, seed_other

OTHER_NUMBER = DEMO_SERVICE_CODE + "02"


@pytest.fixture
def world(sessionmaker):
    """Demo (default rules: manager from 0, then finance from 10,000) with a finance user,
    and OTHER; demo orders 1001 (X100 x1, awaits the manager), 1002 (X100 x3, manager
    then finance), 1003 (N200 x1), and OTHER's own 1001 (approved at once: no rules)."""
    with session_scope(sessionmaker) as session:
        enterprise = seed_demo(session)
        seed_other(session)
        session.add(User(enterprise_id=enterprise.id, username="zhao", display_name="赵敏", msisdn=FINANCE,
                         lang="zh", role="finance"))
    for sender, order_text, to in ((CLERK, "DH X100 1", DEMO_NUMBER), (CLERK, "DH X100 3", DEMO_NUMBER),
                                   (CLERK, "DH N200 1", DEMO_NUMBER), (OTHER, "DH X100 1 OWH", OTHER_NUMBER)):
        with session_scope(sessionmaker) as session:
            assert commands.handle(session, Sms(sender, to, order_text), DEMO_SERVICE_CODE).ok
    return sessionmaker


def mo(sender: str, text_: str, to: str = DEMO_NUMBER) -> Sms:
    return Sms(sender, to, text_)


# Two commands on one order, a stock level read after a movement changed it, an order
# created and decided in the same batch, another tenant's same numbers, aliases.
TRICKY_BATCH = [
    mo(CLERK, "STOCK X100"),
    mo(MANAGER, "Y 1001"),  # approved and received at HALL1: X100 there 12 -> 13
    mo(CLERK, "KC X100"),  # must say 13
    mo(MANAGER, "Y 1002"),  # level 1 of 2
    mo(FINANCE, "Y 1002"),  # level 2: approved, finance may not receive
    mo(MANAGER, "Y 1001"),  # already approved
    mo(MANAGER, "TY 1003"),
    mo(CLERK, "库存 N200"),
    mo(OTHER, "CX 1003", OTHER_NUMBER),  # demo has 1003, OTHER does not
    mo(OTHER, "CX 1001", OTHER_NUMBER),  # OTHER's own 1001
    mo(OTHER, "STOCK X100 OWH", OTHER_NUMBER),
    mo(CLERK, "DH X100 2"),  # 1004, made in this batch
    mo(MANAGER, "N 1004 too dear"),
    mo(CLERK, "CX 1002"),
    mo(CLERK, "STOCK x100"),
    mo(CLERK, "STOCK MX100-AL00"),  # by model: not read ahead
    mo(KEEPER, "STOCK X100"),
    mo(MANAGER, "Y 1002"),
    mo(MANAGER, "STOCK X100"),  # no site of their own: every site
    mo(CLERK, "Y 9999"),
    mo(FINANCE, "N 1003 late"),
]


def run_batch(sessionmaker, mos, prepared: bool, statements: list | None = None, prepare_fails: bool = False):
    """The replies to ``mos`` run in one transaction as the dispatcher runs a batch, and
    what they left in the database; rolled back afterwards. ``statements``, if given,
    receives the SQL the commands ran (not the preparation's). ``prepare_fails``: the
    preparation must raise (the dispatcher goes on without it)."""
    session = sessionmaker()
    try:
        with session.begin():
            open_transaction(session)
            if prepare_fails:
                with pytest.raises(RuntimeError):
                    prepare(session, [(sms, DEMO_SERVICE_CODE) for sms in mos])
            elif prepared:
                prepare(session, [(sms, DEMO_SERVICE_CODE) for sms in mos])
            with counting(session, statements):
                with session.begin_nested():
                    replies = [(o.reply, o.ok, o.command) for o in
                               (commands.handle(session, sms, DEMO_SERVICE_CODE) for sms in mos)]
            left = snapshot(session)
            session.rollback()
    finally:
        session.close()
    return replies, left


@contextmanager
def counting(session, statements: list | None):
    if statements is None:
        yield
        return
    engine = session.get_bind()

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def open_transaction(session) -> None:
    """Start the database transaction with a write that changes nothing (SQLite's driver
    begins one only before a write, and a savepoint released outside one commits), as
    the dispatcher's claim does."""
    session.execute(text("UPDATE enterprises SET active = active WHERE id = 0"))


def snapshot(session) -> dict:
    """The rows the commands write, without ids and times (auto-increment values move on
    MariaDB after a rollback); order ids in keys are replaced by numbers."""
    number_of = {i: f"{e}/{n}" for i, e, n in session.execute(text("SELECT id, enterprise_id, number FROM orders"))}

    def rows(sql):
        return sorted(tuple(str(v) for v in row) for row in session.execute(text(sql)))

    def key(value):
        match = re.fullmatch(r"(approval|decided):(\d+)(.*)", value or "")
        return f"{match[1]}:{number_of[int(match[2])]}{match[3]}" if match else value

    return {
        "orders": rows("SELECT enterprise_id, number, kind, state, requester_user_id, to_site_id, total,"
                       " approval_level, awaiting_role FROM orders"),
        "steps": rows(
            "SELECT o.enterprise_id, o.number, s.level, s.role, s.decision, s.decided_by_user_id, s.comment"
            " FROM approval_steps s JOIN orders o ON o.id = s.order_id"),
        "lines": rows("SELECT o.enterprise_id, o.number, l.item_id, l.quantity, l.amount"
                      " FROM order_lines l JOIN orders o ON o.id = l.order_id"),
        "levels": rows("SELECT item_id, site_id, quantity FROM stock_levels"),
        "movements": rows("SELECT enterprise_id, kind, item_id, quantity, from_site_id, to_site_id, reference,"
                          " actor_user_id FROM movements"),
        "notifications": sorted((e, u, m, zh, en, str(urgent), key(k)) for e, u, m, zh, en, urgent, k in
                                session.execute(text("SELECT enterprise_id, user_id, msisdn, text_zh, text_en,"
                                                     " urgent, `key` FROM notifications"))),
        "audit": rows("SELECT enterprise_id, actor_user_id, action, entity FROM audit_log"),
    }


def test_a_batch_answers_and_writes_the_same_with_or_without_reading_ahead(world):
    plain = run_batch(world, TRICKY_BATCH, prepared=False)
    read_ahead = run_batch(world, TRICKY_BATCH, prepared=True)
    assert read_ahead[0] == plain[0]
    assert read_ahead[1] == plain[1]


def test_the_tricky_batch_says_what_two_batches_would(world):
    """Pins the answers the comparison is about, so that both runs cannot be wrong alike."""
    replies, left = run_batch(world, TRICKY_BATCH, prepared=True)
    texts = [reply for reply, _ok, _command in replies]
    assert "12" in texts[0] and "13" in texts[2]  # the receipt of 1001 is seen by the next STOCK
    assert [ok for _r, ok, _c in replies[3:6]] == [True, True, False]
    assert "finance" in texts[3].lower() or "财务" in texts[3]
    assert replies[8][1] is False and "1003" in texts[8]  # another tenant's number: no such order
    assert replies[9][1] is True and "1001" in texts[9]
    states = {number: state for eid, number, _k, state, *_rest in left["orders"]
              if eid == str(demo_id(world))}
    assert states == {"1001": "fulfilled", "1002": "approved", "1003": "fulfilled", "1004": "rejected"}


def demo_id(sessionmaker) -> int:
    with session_scope(sessionmaker) as session:
        return demo(session).id


BENCH_LIKE_BATCH = [
    mo(CLERK, "STOCK X100"), mo(KEEPER, "KC X100"), mo(CLERK, "DH X100 1"), mo(MANAGER, "Y 1001"),
    mo(MANAGER, "Y 1002"), mo(OTHER, "DH X100 1 OWH", OTHER_NUMBER),
]
# The movement's read of the levels it changes (FOR UPDATE on MariaDB; SQLite locks the
# whole database instead): one item's (movements) or many items' (movement_batch).
LOCKING_READ = re.compile(r"^\s*SELECT stock_levels.id, (stock_levels.item_id, )?stock_levels.site_id, "
                          r"stock_levels.quantity\s+FROM stock_levels.*ORDER BY (stock_levels.item_id, )?"
                          r"stock_levels.site_id", re.DOTALL)
READS = re.compile(r"^\s*SELECT\b.*?\bFROM\s+(items|sites|orders|order_lines|approval_steps|approval_rules|users"
                   r"|user_roles|stock_levels)\b", re.IGNORECASE | re.DOTALL)


def test_the_commands_of_a_prepared_batch_read_none_of_the_rows_read_ahead(world):
    """STOCK, ORDER and APPROVE find their items, sites, orders, lines, decisions, rules,
    approvers, requesters and stock levels read ahead; only the movement's locking read
    of the levels it changes is left."""
    def run(prepared):
        seen: list[str] = []
        replies, _left = run_batch(world, BENCH_LIKE_BATCH, prepared, seen)
        return replies, [s for s in seen if READS.match(s) and not LOCKING_READ.match(s)]

    plain_replies, plain_reads = run(False)
    replies, reads = run(True)
    assert replies == plain_replies
    assert all(ok for _reply, ok, _command in replies)
    assert plain_reads  # the comparison means something
    assert reads == []


def test_a_preparation_that_fails_half_way_only_costs_queries(world, monkeypatch):
    """The dispatcher catches the exception; what was read before it is still sound."""
    from erpcore import document_memo

    plain = run_batch(world, TRICKY_BATCH, prepared=False)

    def broken(*_args, **_kwargs):
        raise RuntimeError("lost the read")
    monkeypatch.setattr(document_memo, "remember_decisions", broken)

    replies, left = run_batch(world, TRICKY_BATCH, prepared=True, prepare_fails=True)
    assert replies == plain[0]
    assert left == plain[1]


@pytest.mark.parametrize("prepared", [False, True])
def test_a_batch_rolled_back_and_run_again_answers_as_the_first_time(world, prepared):
    """The dispatcher runs a failed batch again one MO at a time in the same transaction:
    what the first run wrote (and dropped from the memos) is gone, the memos still agree."""
    plain = run_batch(world, TRICKY_BATCH, prepared=False)
    session = world()
    try:
        with session.begin():
            open_transaction(session)
            if prepared:
                prepare(session, [(sms, DEMO_SERVICE_CODE) for sms in TRICKY_BATCH])
            with pytest.raises(RuntimeError):
                with session.begin_nested():
                    for sms in TRICKY_BATCH[:8]:
                        commands.handle(session, sms, DEMO_SERVICE_CODE)
                    raise RuntimeError("the batch write failed")
            replies = []
            for sms in TRICKY_BATCH:
                with session.begin_nested():
                    outcome = commands.handle(session, sms, DEMO_SERVICE_CODE)
                replies.append((outcome.reply, outcome.ok, outcome.command))
            left = snapshot(session)
            session.rollback()
    finally:
        session.close()
    assert replies == plain[0]
    assert left == plain[1]
