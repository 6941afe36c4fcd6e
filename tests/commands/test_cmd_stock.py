"""STOCK (KC / 库存): an item's stock at my site, a named site, every site (a user without
a site), or a partner's site as far as sharing allows; sites by code in English, by name
in Chinese; refusals name what exists and what to send."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from commands.length import parts_needed
from erpcore import sharing
from erpcore.items import Item
from erpcore.services import ensure_open
from erpcore.sites import Site
from erpcore.tenants import Enterprise
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, OTHER, demo, in_db
from tests.commands.cmd_tables import is_reply
from tests.commands.conftest import DEMO_NUMBER

COMMAND = "STOCK"
X100_AT_HALL1_ZH = "X100 华为Mate X100 库存: 一厅 12"
ALIASES = [
    "STOCK X100", "stock x100", "Stock X100", "KC X100", "kc x100", "库存 X100", "库存X100", "ＳＴＯＣＫ　Ｘ１００",
    "ｋｃ　ｘ１００", "KC,X100", "KC，X100", "KC#X100", "KC＃X100", "KC+X100+HALL1", "KC＋X100＋HALL1", "KC, X100 ,, HALL1",
    "STOCK MX100-AL00", "KC 86123456", "Kc X100 hall1", "库存X100 一厅", "  库存 x100  ",
]
USAGE_ZH = "用法: 库存 货品 [网点] (或 KC): 按编码、型号或TAC查本网点或指定网点的库存。例: 库存 X100"
USAGE_EN = ("Usage: STOCK <item> [site] (or KC): stock of an item by SKU, model or TAC at your site or the named"
            " one. E.g. STOCK X100 HALL1")
ERRORS = [
    (CLERK, "KC", "usage", USAGE_ZH),
    (MANAGER, "STOCK", "usage", USAGE_EN),
    (MANAGER, "STOCK X100 HALL1 extra", "usage", USAGE_EN),
    (MANAGER, "STOCK Q1", "stock.item_not_found", "No item Q1. Send its SKU, model or TAC, e.g. STOCK X100"),
    (CLERK, "库存 Q1", "stock.item_not_found", "没有货品 Q1。请发编码、型号或TAC,如 库存 X100"),
    (MANAGER, "STOCK Z900", "stock.item_not_found",  # OTHER's SKU
     "No item Z900. Send its SKU, model or TAC, e.g. STOCK X100"),
    (MANAGER, "STOCK X100 HALL9", "stock.site_not_found", "No site HALL9; send one of: WH1, HALL1, HALL2"),
    (CLERK, "库存 X100 三厅", "stock.site_not_found", "没有网点 三厅,请发其中之一: 中心仓库, 一厅, 二厅"),
    (MANAGER, "STOCK X100 OWH", "stock.site_not_found", "No site OWH; send one of: WH1, HALL1, HALL2"),  # OTHER's site
    (MANAGER, "STOCK X100 other", "share.not_shared",
     "That company does not share its stock with yours. Send STOCK <item> for your own."),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_and_spelling_answers_the_same(send, text):
    outcome = send(CLERK, text)
    assert (outcome.reply, outcome.command, outcome.ok) == (X100_AT_HALL1_ZH, "STOCK", True)


@pytest.mark.parametrize("sender, text, reply", [
    (MANAGER, "STOCK X100 HALL1", "X100 Huawei Mate X100: HALL1 12"),
    (MANAGER, "STOCK X100", "X100: WH1 250, HALL1 12, HALL2 0"),  # no site of my own: every site
    (MANAGER, "KC N200", "N200: WH1 80, HALL2 7, HALL1 5"),
    (KEEPER, "库存 X100", "X100 华为Mate X100 库存: 中心仓库 250"),
    (KEEPER, "库存 X100 一厅", X100_AT_HALL1_ZH),
    (KEEPER, "库存 C300 HALL2", "C300 中兴畅享C300 库存: 二厅 0"),
])
def test_stock_replies(send, sender, text, reply):
    assert send(sender, text).reply == reply


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_refusals_say_what_to_send(send, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.command, outcome.reply) == (False, "STOCK", reply) and is_reply(key, reply)


def test_a_query_naming_two_items_asks_for_the_sku(send, sessionmaker):
    in_db(sessionmaker, lambda s: s.add(Item(enterprise_id=demo(s).id, sku="X100B", name="华为X100乙",
                                             tac="86123456", unit_price=Decimal(1))))
    outcome = send(MANAGER, "STOCK 86123456")
    assert (outcome.ok, outcome.reply) == (False, "86123456 matches several items: X100, X100B. Send the SKU.")
    assert is_reply("stock.ambiguous", outcome.reply)


def test_tenants_see_only_their_own_stock_under_the_same_sku(send):
    """OTHER also has an X100 (999 at OWH); each enterprise sees its own."""
    assert "999" not in send(MANAGER, "STOCK X100").reply
    other = send(OTHER, "STOCK X100", recipient=DEMO_NUMBER[:-2] + "02")
    assert other.reply == "X100 Other X100: OWH 999"


@pytest.fixture
def shared(sessionmaker):
    """OTHER shares its stock with DEMO at "detail"."""
    def run(s):
        other = s.scalars(select(Enterprise).where(Enterprise.code == "OTHER")).one()
        ensure_open(s, other.id)
        group = sharing.create_group(s, other.id, "partners")
        sharing.invite(s, other.id, group.id, "DEMO")
        sharing.accept(s, demo(s).id, group.id)
        sharing.set_rule(s, other.id, group.id, owner_id=other.id, viewer_id=demo(s).id, kind="stock",
                         level="detail")
    in_db(sessionmaker, run)


def test_a_partners_stock_is_shown_where_sharing_allows(send, shared):
    assert send(MANAGER, "STOCK X100 OTHER").reply == "OTHER X100: OWH 999"
    assert send(CLERK, "库存 x100 other").reply == "OTHER X100: OWH 999"


def test_an_item_the_partner_lacks_is_no_such_item(send, shared):
    outcome = send(MANAGER, "STOCK Q1 OTHER")
    assert (outcome.ok, outcome.reply) == (False, "No item Q1. Send its SKU, model or TAC, e.g. STOCK X100")
    assert is_reply("item.not_found", outcome.reply)


def test_a_long_site_list_is_cut_with_a_count_within_three_sms(send, sessionmaker):
    in_db(sessionmaker, lambda s: s.add_all(
        Site(enterprise_id=demo(s).id, code=f"AGENT{n:03}", name=f"代理点{n:03}", kind="agent") for n in range(120)))
    for sender, text in ((MANAGER, "STOCK X100"), (CLERK, "库存 X100 不存在"), (MANAGER, "STOCK X100 NOPE")):
        reply = send(sender, text).reply
        assert parts_needed(reply) <= 3 and "(+" in reply
    assert send(MANAGER, "STOCK X100").reply.startswith("X100: WH1 250, HALL1 12, ")
