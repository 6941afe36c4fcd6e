"""IMEI <imei>: where one handset is now and how it got there (erpcore.imei.trace): its
latest steps first (a long history loses its oldest), dated in the enterprise's local time."""
from __future__ import annotations

from commands.errors import error_text
from commands.formatting import utc_offset_hours, when
from commands.length import join_fitting
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import imei as handsets

STATES = {
    "in_stock": ("在库", "in stock"), "sold": ("已售", "sold"), "returned": ("退回", "returned"),
    "in_transit": ("在途", "in transit"), "repair": ("维修", "in repair"), "lost": ("丢失", "lost"),
}

KINDS = {
    "receive": ("入库", "receive"), "ship": ("出库", "ship"), "transfer": ("调拨", "transfer"),
    "return": ("退货", "return"), "adjust": ("调整", "adjust"),
}

register({
    "imei.head": {
        "zh": "{imei} {sku} {state} {site}。经过(新在前): ", "en": "{imei} {sku} {state} {site}. History, latest first: ",
    },
})


def run(ctx: Context, args: list[str]) -> Reply:
    value = args[0].strip()
    if not (value.isascii() and value.isdigit() and len(value) == handsets.IMEI_LENGTH):
        return Reply(error_text("imei.invalid", ctx.lang, query=value[:20]), ok=False)
    try:
        trace = handsets.trace(ctx.session, ctx.enterprise.id, value)
    except handsets.ImeiNotFound:
        return Reply(error_text("imei.not_found", ctx.lang, query=value), ok=False)
    lang, offset = (1 if ctx.lang == "en" else 0), utc_offset_hours(ctx)
    state = STATES.get(trace.state, (trace.state, trace.state))[lang]
    head = ctx.t("imei.head", imei=trace.imei, sku=trace.sku or "?", state=state, site=trace.site or "-")
    steps = [
        f"{when(step.at, offset)} {KINDS.get(step.kind, (step.kind, step.kind))[lang]}"
        f" {step.from_site or '-'}>{step.to_site or '-'}"
        for step in reversed(trace.history)
    ]
    return Reply(join_fitting(head, steps, "; "))  # what does not fit is the oldest


COMMAND = Command(
    name="IMEI",
    pinyin="CH",
    chinese="串号",
    handler=run,
    min_args=1,
    max_args=1,
    module="stock",
    synopsis={"zh": "串号 串号", "en": "IMEI <imei>"},
    usage={
        "zh": "串号 串号 (或 CH): 查一部手机现在何处及其经过。例: 串号 861234560000001",
        "en": "IMEI <imei> (or CH): where one handset is and its history. E.g. IMEI 861234560000001",
    },
)
