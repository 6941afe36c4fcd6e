"""The command language end to end over the simulator (SMPP, SQLite and MariaDB): an order
above the approval threshold, the manager's SMS, ``Y <no>``, the clerk's confirmation and
the stock moved; one low-stock alert per crossing; the same MO twice acts once; a closed
service refuses. Quiet hours are switched off so the result does not depend on the hour."""
from __future__ import annotations


import pytest_twisted
from sqlalchemy import func, select

from erpcore import db, movements, services
from erpcore.items import find_item
from erpcore.notifications import StoredNotification
from erpcore.orders import Order
from erpcore.sites import get_site
from erpcore.stock import StockLevel
from erpcore.tenants import Enterprise
from erpcore.users import User
from gateway.config import NotifySection
from gateway.messages import InboundSms
from tests.commands.conftest import demo_rules
from tests.e2e.harness import SERVICE_NUMBER, Spine, seed

CLERK, MANAGER, KEEPER = "13800000001", "13800000002", "13800000003"


class FlowSpine(Spine):
    """The spine with quiet hours off and a fast notifier timer."""

    #: What every flow test changes in the gateway's config.
    QUICK_NOTIFIER = NotifySection(quiet_start="00:00", quiet_end="00:00", interval=0.2)

    def start(self, **config_changes):
        return super().start(**{"notify": self.QUICK_NOTIFIER, **config_changes})


def in_db(url, fn):
    engine = db.make_engine(url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            return fn(session)
    finally:
        engine.dispose()


def demo_id(session) -> int:
    return session.scalars(select(Enterprise.id).where(Enterprise.code == "DEMO")).one()


def hall1_x100(session) -> int:
    eid = demo_id(session)
    return session.scalar(select(StockLevel.quantity).where(
        StockLevel.item_id == find_item(session, eid, "X100").id,
        StockLevel.site_id == get_site(session, eid, "HALL1").id))


@pytest_twisted.inlineCallbacks
def test_an_order_above_the_threshold_is_approved_by_sms_and_the_stock_moves(db_url):
    seed(db_url, lambda s, e: demo_rules(e.id, s))
    spine = FlowSpine(db_url)
    yield spine.start()
    try:
        manager_told = spine.expect(MANAGER)
        [ordered] = yield spine.ask(CLERK, "订货 X100 2")
        [request] = yield manager_told
        clerk_told = spine.expect(CLERK)
        [approved] = yield spine.ask(MANAGER, "Y 1001")
        [confirmation] = yield clerk_told
    finally:
        yield spine.stop()
    assert ordered == "订单1001已提交: X100x2 到一厅 共9998元,待经理审批。发 查询 1001 跟进。"
    assert request == ("To approve: order 1001 by 张伟, X100x2 9998. Reply Y 1001 to approve,"
                       " N 1001 <reason> to reject")
    assert approved == "Order 1001 approved. Received at HALL1, now X100 14."
    assert confirmation == "您的订单1001已由John Smith批准。"
    assert in_db(db_url, hall1_x100) == 14
    assert in_db(db_url, lambda s: s.scalar(select(Order.state).where(Order.number == "1001"))) == "fulfilled"


def ship_x100_from_wh1(session):
    eid = demo_id(session)
    manager = session.scalars(select(User).where(User.msisdn == MANAGER)).one()
    movements.move(session, eid, kind="ship", item_id=find_item(session, eid, "X100").id, quantity=1,
                   from_site_id=get_site(session, eid, "WH1").id, actor_user_id=manager.id)


@pytest_twisted.inlineCallbacks
def test_a_storekeeper_gets_exactly_one_alert_per_crossing(db_url):
    seed(db_url, lambda s, e: demo_rules(e.id, s))
    spine = FlowSpine(db_url)
    yield spine.start()
    try:
        [subscribed] = yield spine.ask(KEEPER, "订阅 X100 250")  # WH1 holds 250: armed
        alerted = spine.expect(KEEPER)
        in_db(db_url, ship_x100_from_wh1)  # 250 -> 249: crosses
        in_db(db_url, ship_x100_from_wh1)  # 249 -> 248: does not cross again
        [alert] = yield alerted
        [tasks] = yield spine.ask(KEEPER, "RW")  # the next message is the reply, not a 2nd alert
    finally:
        yield spine.stop()
    assert subscribed.startswith("已订阅: X100在中心仓库低于250件")
    assert alert == "库存预警:中心仓库的华为Mate X100(X100)剩249件,低于250。"
    assert tasks == "您没有未完成的任务。"
    assert in_db(db_url, lambda s: s.scalar(select(func.count()).select_from(StoredNotification))) == 1


@pytest_twisted.inlineCallbacks
def test_the_same_mo_delivered_twice_orders_once(db_url):
    seed(db_url, lambda s, e: demo_rules(e.id, s))
    spine = FlowSpine(db_url)
    yield spine.start()
    try:
        replied = spine.expect(CLERK)
        sms = InboundSms(link="sim", sender=CLERK, recipient=SERVICE_NUMBER, text="DH N200 1", smsc_id="dup-1")
        yield spine.gateway.pipeline.inbound_handler.handle_inbound(sms)
        yield spine.gateway.pipeline.inbound_handler.handle_inbound(sms)  # the centre redelivers it
        [reply] = yield replied
        [status] = yield spine.ask(CLERK, "查询 1002")  # a second order would be 1002
    finally:
        yield spine.stop()
    assert reply.startswith("订单1001已批准: N200x1")
    assert status.startswith("没有单据 1002")
    assert in_db(db_url, lambda s: s.scalar(select(func.count()).select_from(Order))) == 1


@pytest_twisted.inlineCallbacks
def test_a_closed_service_refuses_and_changes_nothing(db_url):
    seed(db_url, lambda s, e: (demo_rules(e.id, s), services.close_service(s, e.id, "orders")))
    spine = FlowSpine(db_url)
    yield spine.start()
    try:
        [reply] = yield spine.ask(CLERK, "订货 X100 2")
    finally:
        yield spine.stop()
    assert reply == "贵企业未开通订货业务,请联系管理员开通。"
    assert in_db(db_url, lambda s: s.scalar(select(func.count()).select_from(Order))) == 0
