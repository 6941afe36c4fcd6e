"""SUB <item>|ALL [threshold]: tell me by SMS when stock of the item (or of any item) at my
site falls below the threshold (default erpcore.alerts.DEFAULT_THRESHOLD). A user without
a site (a manager) watches every site. One alert per crossing (erpcore.alerts)."""
from __future__ import annotations

from sqlalchemy.orm import Session

from commands.errors import error_text
from commands.formatting import site_name, whole
from commands.normalize import fold
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import alerts
from erpcore.items import Item, find_item

ALL_WORDS = frozenset({"all", "全部", "所有", "qb"})

register({
    "sub.done": {
        "zh": "已订阅: {what}在{site}低于{threshold}件时短信通知您。发 退订 {word} 取消。",
        "en": "Subscribed: you get an SMS when {what} at {site} falls below {threshold}."
              " Send UNSUB {word} to stop.",
    },
    "sub.all_items": {"zh": "任一货品", "en": "any item"},
    "sub.all_sites": {"zh": "各网点", "en": "any site"},
})


def item_arg(session: Session, enterprise_id: int, word: str) -> Item | None:
    """The item a word names; None for ALL (every item)."""
    if fold(word) in ALL_WORDS:
        return None
    return find_item(session, enterprise_id, word)


def run(ctx: Context, args: list[str]) -> Reply:
    item = item_arg(ctx.session, ctx.enterprise.id, args[0])
    threshold = None
    if len(args) > 1:
        threshold = whole(args[1])
        if not threshold:
            return Reply(error_text("alert.invalid", ctx.lang), ok=False)
    rules = alerts.subscribe(ctx.session, ctx.enterprise.id, ctx.user.id, item.id if item else None,
                             threshold, site_id=ctx.user.site_id)
    what = item.sku if item is not None else ctx.t("sub.all_items")
    site = site_name(ctx.user.site, ctx.lang) if ctx.user.site_id else ctx.t("sub.all_sites")
    shown = "/".join(str(t) for t in sorted({rule.threshold for rule in rules}))
    word = item.sku if item is not None else "ALL"
    return Reply(ctx.t("sub.done", what=what, site=site, threshold=shown, word=word))


COMMAND = Command(
    name="SUB",
    pinyin="DY",
    chinese="订阅",
    handler=run,
    min_args=1,
    max_args=2,
    module="alerts",
    writes=True,
    synopsis={"zh": "订阅 货品|全部 [阈值]", "en": "SUB <item>|ALL [threshold]"},
    usage={
        "zh": "订阅 货品|全部 [阈值] (或 DY): 本网点库存低于阈值时短信提醒。例: 订阅 X100 5",
        "en": "SUB <item>|ALL [threshold] (or DY): an SMS when stock at your site falls below the"
              " threshold. E.g. SUB X100 5",
    },
)
