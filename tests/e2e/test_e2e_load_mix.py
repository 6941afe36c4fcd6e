"""`merp sim load`'s ORDER / APPROVE / STOCK mix through the real gateway (SQLite and
MariaDB): clerks of two load teams order and ask for stock, each team's manager approves
every order by SMS when the request comes, nothing is lost, every order ends fulfilled and
every command is logged exactly once."""
from __future__ import annotations

import pytest_twisted
from sqlalchemy import func, select
from twisted.internet import reactor

from erpcore import db, demo
from erpcore.messaging_models import CommandLog
from erpcore.orders import Order
from sim.load import LoadRunner
from tests.e2e.harness import within
from tests.e2e.test_e2e_flows import FlowSpine

PHONES, TEAM, COUNT = 8, 4, 24


def seed_teams(url):
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            demo.seed_load_users(session, PHONES, team_size=TEAM)
    finally:
        engine.dispose()


def db_facts(url):
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            states = dict(conn.execute(select(Order.state, func.count()).group_by(Order.state)).all())
            logged = conn.execute(select(func.count()).select_from(CommandLog)).scalar_one()
            distinct = conn.execute(select(func.count(func.distinct(CommandLog.inbox_id)))).scalar_one()
            return states, logged, distinct
    finally:
        engine.dispose()


@pytest_twisted.inlineCallbacks
def test_clerks_order_and_their_managers_approve_by_sms_under_load(db_url):
    seed_teams(db_url)
    spine = FlowSpine(db_url)
    yield spine.start()
    try:
        runner = LoadRunner(spine.smsc, reactor, count=COUNT, phones=PHONES, seed=5, timeout=20,
                            commands=[("ORDER X100 1", 1.0), ("STOCK X100", 1.0)], team_size=TEAM,
                            service_code=demo.DEMO_SERVICE_CODE)
        report = yield within(runner.run(), 90, "the load run")
    finally:
        yield spine.stop()
    orders = report.kinds["ORDER"]["sent"]
    assert report.complete, report
    assert orders > 3 and report.kinds["APPROVE"] == {"sent": orders, "replied": orders, "lost": 0}
    assert report.kinds["STOCK"]["replied"] == COUNT - orders
    assert report.requests == orders and report.unexpected == 0
    states, logged, distinct = db_facts(db_url)
    assert states == {"fulfilled": orders}, "every order approved once and its stock received"
    assert logged == distinct == COUNT + orders, "every command acted on exactly once"
