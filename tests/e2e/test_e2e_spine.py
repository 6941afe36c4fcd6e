"""A handset's text is answered end to end over real loopback SMPP, CMPP 2.0 and CMPP 3.0:
simulator → gateway → store → command → outbox → simulator → handset, on SQLite and on
MariaDB. One scenario suite, run once per protocol."""
from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import func, select

from commands import handle
from erpcore import db
from erpcore.messaging_models import CommandLog, Outbox
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.items import Item
from erpcore.users import User
from gateway import text as smstext
from tests.e2e.harness import PROTOCOLS, SERVICE_NUMBER, Spine, seed

CITY_HALLS = [f"{name}营业厅" for name in (
    "北京朝阳", "上海浦东", "广州天河", "深圳南山", "杭州西湖", "成都武侯",
    "南京鼓楼", "武汉江汉", "西安雁塔", "重庆渝中", "天津和平", "苏州姑苏",
)]


def many_halls(session, enterprise):
    """Twelve halls with Chinese names holding X100, and a zh user with no own site, so that
    STOCK X100 lists every site: a Chinese reply that needs three SMS."""
    x100 = session.scalars(select(Item).where(Item.enterprise_id == enterprise.id, Item.sku == "X100")).one()
    for n, name in enumerate(CITY_HALLS, 1):
        site = Site(enterprise_id=enterprise.id, code=f"H{n:02d}", name=name, kind="hall")
        session.add(site)
        session.flush()
        session.add(StockLevel(item_id=x100.id, site_id=site.id, quantity=n * 3))
    session.add(User(enterprise_id=enterprise.id, username="li", display_name="李强",
                     msisdn="13800000009", lang="zh", role="manager"))


def expected_reply(url, sender, text):
    """What the command layer answers, asked directly: the oracle for the round trip."""
    class Sms:
        pass

    sms = Sms()
    sms.sender, sms.recipient, sms.text = sender, SERVICE_NUMBER, text
    engine = db.make_engine(url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            return handle(session, sms, "1065712345").reply
    finally:
        engine.dispose()


@pytest.fixture(params=PROTOCOLS)
def protocol(request):
    """The link the gateway uses to reach the simulated centre."""
    return request.param


def count(url, stmt):
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(stmt).scalar_one()
    finally:
        engine.dispose()


@pytest_twisted.inlineCallbacks
def test_an_english_stock_query_is_answered_in_one_gsm_sms(db_url, protocol):
    seed(db_url)
    spine = Spine(db_url, protocol)
    yield spine.start()
    try:
        [reply] = yield spine.ask("13800000002", "stock x100")
    finally:
        yield spine.stop()
    assert reply == expected_reply(db_url, "13800000002", "stock x100")
    assert "X100" in reply and "250" in reply
    assert smstext.choose_coding(reply) == "gsm7"
    assert count(db_url, select(func.count()).select_from(CommandLog)) == 1


@pytest_twisted.inlineCallbacks
def test_a_chinese_query_gets_a_three_part_ucs2_reply_reassembled_on_the_handset(db_url, protocol):
    seed(db_url, many_halls)
    spine = Spine(db_url, protocol)
    yield spine.start()
    try:
        [reply] = yield spine.ask("13800000009", "库存 X100")
    finally:
        yield spine.stop()
    expected = expected_reply(db_url, "13800000009", "库存 X100")
    coding, parts = smstext.split(expected)
    assert (coding, len(parts)) == ("ucs2", 3), "the fixture must need exactly three parts"
    assert reply == expected
    assert all(name in reply for name in CITY_HALLS[:3])
    assert count(db_url, select(func.count()).select_from(Outbox).where(Outbox.concat_total == 3)) == 3


@pytest_twisted.inlineCallbacks
def test_an_unknown_sender_and_an_unknown_command_get_clear_replies(db_url, protocol):
    seed(db_url)
    spine = Spine(db_url, protocol)
    yield spine.start()
    try:
        [stranger] = yield spine.ask("13912345678", "STOCK X100")
        [typo] = yield spine.ask("13800000002", "STOK X100")
    finally:
        yield spine.stop()
    assert stranger == expected_reply(db_url, "13912345678", "STOCK X100")
    assert "STOCK" in typo  # did you mean STOCK
