"""UNSUB <item>|ALL: end my low-stock alerts for the item (at every site I watch it), or
all of them."""
from __future__ import annotations

from commands.length import clip_word
from commands.registry import Command, Context, Reply
from commands.replies import register
from commands.sub import item_arg
from erpcore import alerts

register({
    "unsub.done": {"zh": "已退订{count}项库存提醒。", "en": "{count} low-stock alert(s) ended."},
    "unsub.none": {
        "zh": "您没有{what}的库存提醒。要订阅请发 订阅 {what}",
        "en": "You have no alert for {what}. To get one send SUB {what}",
    },
})


def run(ctx: Context, args: list[str]) -> Reply:
    item = item_arg(ctx.session, ctx.enterprise.id, args[0])
    watched = {
        (rule.item_id, rule.site_id)
        for rule in alerts.subscriptions(ctx.session, ctx.enterprise.id, ctx.user.id)
        if item is None or rule.item_id == item.id
    }
    ended = sum(
        alerts.unsubscribe(ctx.session, ctx.enterprise.id, ctx.user.id, item_id, site_id=site_id)
        for item_id, site_id in sorted(watched, key=lambda pair: (pair[0] or 0, pair[1] or 0))
    )
    if not ended:
        return Reply(ctx.t("unsub.none", what=item.sku if item else clip_word(args[0])), ok=False)
    return Reply(ctx.t("unsub.done", count=ended))


COMMAND = Command(
    name="UNSUB",
    pinyin="TD",
    chinese="退订",
    handler=run,
    min_args=1,
    max_args=1,
    module="alerts",
    writes=True,
    synopsis={"zh": "退订 货品|全部", "en": "UNSUB <item>|ALL"},
    usage={
        "zh": "退订 货品|全部 (或 TD): 取消库存提醒。例: 退订 X100",
        "en": "UNSUB <item>|ALL (or TD): ends low-stock alerts. E.g. UNSUB X100",
    },
)
