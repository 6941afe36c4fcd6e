"""No reply takes more than three SMS, even the longest each command can give: a world
where every name is as long as its column allows (128 characters of Chinese), SKUs and
site codes are 32 characters, and lists run long. What the reader needs first (the
document number, the item, the state) survives any cut."""
from __future__ import annotations

import pytest
from sqlalchemy import update

import commands
from commands.length import parts_needed
from erpcore import rbac
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.users import User
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, demo, give_task, in_db, set_pin, user

LONG_SKU = "X" * 28 + "L100"  # 32, the column's width
LONG_SITE = "S" * 32


@pytest.fixture
def long_world(sessionmaker, send):
    """Demo names stretched to their columns, 60 more sites, 40 orders awaiting the manager,
    30 long tasks for the storekeeper; the manager is also an admin (password s3cret!)."""
    def stretch(s):
        eid = demo(s).id
        s.execute(update(Site).where(Site.enterprise_id == eid).values(name="营业厅" * 42 + "甲乙"))
        s.execute(update(Site).where(Site.enterprise_id == eid, Site.code == "HALL1").values(code=LONG_SITE))
        s.execute(update(Item).where(Item.enterprise_id == eid, Item.sku == "X100")
                  .values(sku=LONG_SKU, name="华为" * 64, name_en="Huawei " * 18))
        s.execute(update(User).where(User.enterprise_id == eid).values(display_name="欧阳" * 64))
        s.add_all(Site(enterprise_id=eid, code=f"AGENT{n:027}", name=f"代理点{n:03}" * 21, kind="agent")
                  for n in range(60))
        rbac.grant_role(s, user(s, MANAGER), "admin")
    in_db(sessionmaker, stretch)
    set_pin(sessionmaker, MANAGER, "s3cret!")
    for _ in range(40):
        assert send(CLERK, f"DH {LONG_SKU} 999999").ok
    for _ in range(30):
        give_task(sessionmaker, KEEPER, "检查柜台并报告" * 40)
    return send


def fits(outcome) -> str:
    assert parts_needed(outcome.reply) <= 3, (len(outcome.reply), outcome.reply)
    return outcome.reply


@pytest.mark.parametrize("sender", [CLERK, MANAGER])
def test_help_and_every_usage(long_world, sender):
    assert parts_needed(fits(long_world(sender, "HELP"))) == 1
    for command in commands.REGISTRY.commands:
        reply = fits(long_world(sender, f"HELP {command.name}"))
        assert parts_needed(reply) <= 2, "a usage leaves room: at most two SMS"


@pytest.mark.parametrize("sender, text, starts", [
    (MANAGER, f"STOCK {LONG_SKU}", f"{LONG_SKU}: WH1 250, {LONG_SITE} "),
    (CLERK, f"库存 {LONG_SKU}", f"{LONG_SKU} " + "华为" * 64 + " 库存: "),
    (CLERK, f"库存 {LONG_SKU} NOPE", "没有网点 NOPE,请发其中之一: "),
])
def test_stock(long_world, sender, text, starts):
    assert fits(long_world(sender, text)).startswith(starts)


def test_order_waiting_and_approved_with_the_receipt(long_world):
    waiting = fits(long_world(CLERK, f"DH {LONG_SKU} 999999"))
    assert waiting.startswith(f"订单1041已提交: {LONG_SKU}x999999 到")
    received = fits(long_world(MANAGER, f"ORDER N200 10 {LONG_SITE}"))
    assert received == (f"Order 1042 approved: N200 x10 to {LONG_SITE}, total 2990."
                        f" Received at {LONG_SITE}, now N200 15.")
    approved_zh = fits(long_world(CLERK, "订货 N200 1"))  # a site name of 128 characters
    assert approved_zh.startswith("订单1043已批准: N200x1 到营业厅") and approved_zh.endswith("共299元。待仓管入库。")


def test_pending_status_approve_reject(long_world):
    pending = fits(long_world(MANAGER, "PENDING"))
    assert pending.startswith(f"To approve (40): 1001 {LONG_SKU}x999999 4998995001 ") and "(+" in pending
    assert fits(long_world(MANAGER, "Y 1001 " + "好" * 300)).startswith("Order 1001 approved.")
    assert fits(long_world(MANAGER, "N 1002 " + "太贵了" * 200)) == "Order 1002 rejected; the requester is told."
    for _ in range(3):
        long_world(CLERK, "CX 1001")
    assert fits(long_world(CLERK, "查询 1001")).startswith(f"订单1001 {LONG_SKU}x999999 4998995001元 ")


def test_sub_and_unsub(long_world):
    assert fits(long_world(CLERK, f"订阅 {LONG_SKU} 999999")).startswith(f"已订阅: {LONG_SKU}在")
    assert fits(long_world(CLERK, "退订 全部")) == "已退订1项库存提醒。"
    assert fits(long_world(CLERK, "退订 " + "Ｑ" * 400)).startswith("没有货品 QQQQ")


def test_task_and_done(long_world):
    assert fits(long_world(KEEPER, "任务")).startswith("任务(30): #")
    assert fits(long_world(KEEPER, "完成 1 " + "修好了" * 300)) == "任务#1已完成,谢谢。"


def test_imei_and_service(long_world):
    assert fits(long_world(KEEPER, "串号 " + "8" * 400)).startswith("串号 88888888888888888888")
    assert fits(long_world(MANAGER, "FW DEMO s3cret! CHANGE alerts " + "k=v " * 200)).startswith("The alerts service")


def test_every_notification_of_the_long_world_goes_in_three_sms_at_most(long_world, sessionmaker):
    """Approval requests (with their WAP link), decisions and task notices, as the notifier
    turns them into SMS: three at most each, an approval request keeping its instruction
    and its link."""
    from erpcore import notifications
    from gateway.pipeline.notifier import Notifier

    link = "http://wap.example.com/wap/doc/1001?exp=1795569581&sig=4ae1083fa74952b2a549d126d8971e94"
    long_world(MANAGER, "N 1003 " + "太贵了" * 200)
    notifier = Notifier(None, None, "1065712345", approval_link=lambda _enterprise, _number: link)

    def parts(s):
        return [(row.key, notifier.parts_for(s, row)) for row in notifications.pending(s, 1000)]
    sms = in_db(sessionmaker, parts)
    assert len(sms) == 40 + 30 + 1  # requests, tasks, the rejection
    assert all(len(texts) <= 3 for _key, texts in sms)
    for key, texts in sms:
        if key.startswith("approval:"):
            whole = "".join(part.text for part in texts)
            assert whole.endswith(link) and " Y 10" in whole
