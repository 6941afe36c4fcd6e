"""Two gateways on one MariaDB: two dispatchers run their passes at the same time on their
own connections, claiming with SKIP LOCKED, their batches writing orders, approval
requests and stock of the same enterprises. Every MO is answered exactly once, nobody is
told "busy", and every enterprise's order numbers stay unique and gapless, whatever the
interleaving. (What a deadlock does to a batch is pinned without timing by
test_pipeline_dispatch_batches: this one rarely produces one.)"""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import func, select

from erpcore import demo, inbox
from erpcore.messaging_models import CommandLog, Inbox, Outbox
from erpcore.orders import Order
from gateway.messages import InboundSms
from gateway.pipeline.db_worker import DbWorker
from gateway.pipeline.dispatcher import ERROR_REPLY, Dispatcher
from gateway.text import split
from sim.load_mix import Layout
from tests.pipeline.pipeline_fakes import ImmediatePool, InlineReactor

PHONES, TEAM = 24, 4  # six enterprises, three clerks each
ROUNDS = 4  # ORDERs and STOCKs per clerk


def test_two_dispatchers_at_once_answer_every_mo_once_and_keep_numbers_unique(sessionmaker, engine, clock, now):
    if engine.dialect.name != "mysql":
        pytest.skip("MariaDB only: SQLite takes one writer at a time")
    layout = Layout(PHONES, team_size=TEAM, service_code=demo.DEMO_SERVICE_CODE)
    with sessionmaker.begin() as session:
        demo.seed_demo(session)
        demo.seed_load_users(session, PHONES, team_size=TEAM)
    clerks = [i for i in range(PHONES) if not layout.is_manager(i)]
    # Interleaved across enterprises, so that each batch touches all of them.
    texts = [("ORDER X100 1" if r % 2 == 0 else "STOCK X100") for r in range(ROUNDS)]
    mos = [InboundSms(link="smsc1", sender=layout.msisdn(i), recipient=layout.recipient(i), text=text,
                      smsc_id=f"m{r}-{i}") for r, text in enumerate(texts) for i in clerks]
    with sessionmaker.begin() as session:
        inbox.store(session, mos, now)

    def gateway() -> Dispatcher:
        worker = DbWorker(sessionmaker, InlineReactor(), threads=1, pool=ImmediatePool())
        return Dispatcher(worker, clock, demo.DEMO_SERVICE_CODE, split=split, batch=7)

    def left() -> int:
        with sessionmaker() as session:
            return session.scalar(select(func.count()).select_from(Inbox).where(Inbox.state != "done"))

    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def run(dispatcher: Dispatcher) -> None:
        try:
            start.wait()
            for _ in range(200):  # each wake is one pass, claiming up to a batch
                if not left():
                    return
                dispatcher.wake()
        except BaseException as error:  # noqa: BLE001 - reported by the test below
            failures.append(error)

    one, two = gateway(), gateway()
    threads = [threading.Thread(target=run, args=(d,)) for d in (one, two)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures and left() == 0
    assert one.handled > 0 and two.handled > 0, "both gateways took part"
    assert one.command_errors + two.command_errors == 0 and one.given_up + two.given_up == 0
    with sessionmaker() as session:
        logged = Counter(session.scalars(select(CommandLog.inbox_id)))
        replies = list(session.scalars(select(Outbox.text).where(Outbox.inbox_id.is_not(None))))
        numbers = session.execute(select(Order.enterprise_id, Order.number)).all()
    assert len(logged) == len(mos) and set(logged.values()) == {1}  # each MO answered once
    assert ERROR_REPLY not in replies
    orders_sent = len(clerks) * texts.count("ORDER X100 1")
    assert len(numbers) == orders_sent == len(set(numbers))
    per_enterprise = Counter(eid for eid, _number in numbers)
    for enterprise_id, count in per_enterprise.items():
        mine = sorted(int(n) for eid, n in numbers if eid == enterprise_id)
        assert mine == list(range(mine[0], mine[0] + count)), "numbers without gaps or repeats"
