"""A dispatcher batch runs its commands without a savepoint each and writes its audit entries
and notifications in one statement per table; when an MO's command raises, or one refuses
after it wrote, the batch's savepoint rolls back — taking the rows it queued and what it
left in memory (an order it approved, the transaction memos) — and the batch runs again
one MO at a time, each command once in effect."""
from __future__ import annotations

from sqlalchemy import select

import commands
from commands import runner
from commands.registry import Command, Context
from erpcore import approvals
from erpcore.audit import AuditEntry
from erpcore.db import session_scope
from erpcore.demo import DEMO_SERVICE_CODE, seed_demo
from erpcore.errors import Conflict
from erpcore.messaging_models import InboxSeenPart, Outbox
from erpcore.notifications import StoredNotification
from erpcore.orders import Order
from gateway.pipeline.dispatcher import ERROR_REPLY, default_prepare
from tests.commands.cmd_helpers import CLERK, MANAGER, demo, user
from tests.commands.conftest import DEMO_NUMBER, Sms
from tests.pipeline.pipeline_fakes import Outcome
from tests.pipeline.test_pipeline_dispatch_batches import Statements, business_change, make_dispatcher, store


def seed_orders(sessionmaker, count: int) -> list[str]:
    """The demo with purchases from 5000 awaiting the manager, and ``count`` such orders
    of the clerk's (X100 x2, 9998 each)."""
    with session_scope(sessionmaker) as session:
        enterprise = seed_demo(session)
        approvals.set_rules(session, enterprise.id, "purchase", [(1, "5000", "manager")])
    for _ in range(count):
        with session_scope(sessionmaker) as session:
            outcome = commands.handle(session, Sms(CLERK, DEMO_NUMBER, "DH X100 2"), DEMO_SERVICE_CODE)
            assert outcome.ok, outcome.reply
    with session_scope(sessionmaker) as session:
        return list(session.scalars(select(Order.number).order_by(Order.id)))


def the_command_layer_but(bad_text: str, bad):
    """commands.handle, except for an MO with ``bad_text``: ``bad(session)`` answers it."""
    def handle(session, sms, service_code):
        if sms.text == bad_text:
            return bad(session)
        return commands.handle(session, sms, service_code)
    return handle


def explode(_session):
    raise RuntimeError("a bug in some command")


def state_of(sessionmaker, number: str) -> str:
    with session_scope(sessionmaker) as session:
        return session.scalar(select(Order.state).where(Order.number == number))


def actions(sessionmaker) -> list[str]:
    with session_scope(sessionmaker) as session:
        return list(session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("order.%"))
                                    .order_by(AuditEntry.id)))


def decided(sessionmaker) -> list[str]:
    with session_scope(sessionmaker) as session:
        return list(session.scalars(select(StoredNotification.key)
                                    .where(StoredNotification.key.like("decided:%"))))


def test_an_approval_done_again_after_the_batch_rolled_back_approves_the_order(sessionmaker, clock, rows, now):
    [number] = seed_orders(sessionmaker, 1)
    before = actions(sessionmaker)
    held = []  # whatever keeps the order loaded (a memo, a reference cycle not yet collected)

    def look_then_explode(session):
        held.append(session.scalars(select(Order).where(Order.number == number)).one())
        explode(session)

    store(sessionmaker, now, [(MANAGER, f"Y {number}"), (CLERK, "BOOM")])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=the_command_layer_but("BOOM", look_then_explode),
                                 prepare=default_prepare())
    dispatcher.wake()
    assert dispatcher.retried_batches == 1 and dispatcher.command_errors == 1
    replies = sorted(r["text"] for r in rows(Outbox))
    assert replies == sorted([f"Order {number} approved. Received at HALL1, now X100 14.", ERROR_REPLY])
    assert state_of(sessionmaker, number) == "fulfilled"
    # Once in effect: the rolled-back batch's queued rows were dropped, not written twice.
    assert actions(sessionmaker)[len(before):] == ["order.approve", "order.fulfil"]
    assert len(decided(sessionmaker)) == 1


def test_a_batch_writes_its_audit_entries_and_notifications_in_one_statement_each(
        sessionmaker, engine, clock, rows, now):
    numbers = seed_orders(sessionmaker, 4)
    store(sessionmaker, now, [(MANAGER, f"Y {number}") for number in numbers])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=None)
    statements = Statements(engine)
    try:
        dispatcher.wake()
    finally:
        statements.close()
    assert [state_of(sessionmaker, n) for n in numbers] == ["fulfilled"] * 4
    assert len(decided(sessionmaker)) == 4 and dispatcher.retried_batches == 0
    # The batch's savepoint (and one for the APPROVEs carried out together), none per command.
    assert statements.count("SAVEPOINT") <= 2, statements.seen
    assert (statements.count("INSERT INTO AUDIT_LOG"), statements.count("INSERT INTO NOTIFICATIONS")) == (1, 1)


def test_a_command_that_refuses_after_writing_sends_the_batch_one_by_one_and_keeps_no_half(
        sessionmaker, clock, rows, now):
    with session_scope(sessionmaker) as session:
        seed_demo(session)

    def refuses_after_writing(ctx, _args):
        business_change(ctx.session, "half")
        raise Conflict("refused after a write", code="test.refused")

    half_command = Command(name="HALF", pinyin="BB", chinese="半", handler=refuses_after_writing, writes=True,
                           synopsis={"zh": "", "en": ""}, usage={"zh": "", "en": ""})

    def half(session):
        ctx = Context(session=session, enterprise=demo(session), user=user(session, MANAGER), lang="en",
                      registry=commands.REGISTRY, options=commands.DEFAULT_OPTIONS)
        reply = runner.run(half_command, ctx, [])
        return Outcome(reply=reply.text, ok=reply.ok, command="HALF")

    store(sessionmaker, now, [(CLERK, "STOCK X100"), (MANAGER, "HALF"), (CLERK, "STOCK N200")])
    dispatcher = make_dispatcher(sessionmaker, clock, handle=the_command_layer_but("HALF", half),
                                 prepare=default_prepare())
    dispatcher.wake()
    assert dispatcher.retried_batches == 1 and dispatcher.command_errors == 0 and dispatcher.handled == 3
    assert rows(InboxSeenPart, link="business") == []  # its savepoint took the half back
    texts = [r["text"] for r in rows(Outbox)]
    assert len(texts) == 3 and sum("X100" in t for t in texts) == 1 and sum("N200" in t for t in texts) == 1

