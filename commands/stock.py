"""STOCK <item> [site]: how many of an item a site holds.

Without a site the user's own site is used; a user with no site (a manager) sees every
site of the enterprise. English replies name sites by code; Chinese replies by name.
"""
from __future__ import annotations

from commands import partner_stock
from commands.length import clip, clip_word, join_fitting
from commands.registry import Command, Context, Reply
from commands.replies import text
from erpcore.sites import list_sites
from erpcore.stock import AmbiguousItem, ItemNotFound, SiteNotFound, StockResult, stock_of


def run(ctx: Context, args: list[str]) -> Reply:
    item_query, site_query = args[0], (args[1] if len(args) > 1 else None)
    try:
        result = stock_of(
            ctx.session, ctx.enterprise.id, item_query, site_code=site_query,
            default_site_id=ctx.user.site_id,
        )
    except ItemNotFound as exc:
        return Reply(ctx.t("stock.item_not_found", query=clip_word(exc.query)), ok=False)
    except AmbiguousItem as exc:
        skus = ", ".join(exc.skus)
        return Reply(clip(ctx.t("stock.ambiguous", query=clip_word(exc.query), skus=skus)), ok=False)
    except SiteNotFound as exc:
        partner = partner_stock.lookup(ctx, item_query, site_query) if site_query else None
        if partner is not None:
            return partner
        return no_such_site(ctx, exc.query)
    return Reply(format_stock(result, ctx.lang))


def no_such_site(ctx: Context, query: str) -> Reply:
    """``No site HALL9. Sites: WH1, HALL1, HALL2``: the refusal names what exists."""
    sites = [_site_label(site.code, site.name, ctx.lang) for site in list_sites(ctx.session, ctx.enterprise.id)]
    head = ctx.t("stock.site_not_found", query=clip_word(query))
    return Reply(join_fitting(head, sites), ok=False)


def format_stock(result: StockResult, lang: str) -> str:
    """``X100 Huawei Mate X100: HALL1 12`` / ``X100: WH1 250, HALL1 12`` /
    ``X100 华为Mate X100 库存: 中心仓库 250, 一厅 12``."""
    name = (result.name_en or result.name) if lang == "en" else result.name
    key = "stock.heading_one" if len(result.levels) == 1 else "stock.heading_many"
    head = text(key, lang, sku=result.sku, name=name)
    if not result.levels:
        return head + text("stock.no_sites", lang)
    entries = [
        f"{_site_label(level.code, level.name, lang)} {level.quantity}" for level in result.levels
    ]
    return join_fitting(head, entries)


def _site_label(code: str, name: str, lang: str) -> str:
    return code if lang == "en" else name


COMMAND = Command(
    name="STOCK",
    pinyin="KC",
    chinese="库存",
    handler=run,
    min_args=1,
    max_args=2,
    module="stock",
    synopsis={"zh": "库存 货品 [网点]", "en": "STOCK <item> [site]"},
    usage={
        "zh": "库存 货品 [网点] (或 KC): 按编码、型号或TAC查本网点或指定网点的库存。例: 库存 X100",
        "en": (
            "STOCK <item> [site] (or KC): stock of an item by SKU, model or TAC at your site"
            " or the named one. E.g. STOCK X100 HALL1"
        ),
    },
)
