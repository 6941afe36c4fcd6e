"""The message catalogue: every fixed reply text, in Chinese and English.

Replies go out in the user's language (user.lang, else the enterprise's). When nobody
knows who is asking (wrong number, unknown sender) the reply carries both, Chinese first.
Texts stay short: one SMS where they can (70 characters once any Chinese is in them).
"""
from __future__ import annotations

LANGS = ("zh", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "wrong_number": {
        "zh": "号码有误,请发到企业的服务号码。",
        "en": "Wrong number: send to your company's service number.",
    },
    "enterprise_closed": {
        "zh": "该企业的短信服务已停用,请联系管理员。",
        "en": "This company's SMS service is closed; ask your administrator.",
    },
    "unknown_sender": {
        "zh": "您的号码未开通本服务,请联系管理员。",
        "en": "Number not registered; ask your admin.",
    },
    "empty": {
        "zh": "请发送指令,发 帮助 查看指令。",
        "en": "Empty message. Send HELP for the commands.",
    },
    "unknown_command": {
        "zh": "无法识别指令 {word}。发 帮助 查看指令。",
        "en": "Unknown command {word}. Send HELP for the commands.",
    },
    "unknown_command_suggest": {
        "zh": "无法识别指令 {word}。您是要发 {suggestion} 吗? 发 帮助 查看指令。",
        "en": "Unknown command {word}. Did you mean {suggestion}? Send HELP for the commands.",
    },
    "usage": {
        "zh": "用法: {usage}",
        "en": "Usage: {usage}",
    },
    "help.list": {
        "zh": "指令: {commands}。发 帮助 指令 查看用法。",
        "en": "Commands: {commands}. Send HELP <command> for its usage.",
    },
    "stock.item_not_found": {
        "zh": "没有货品 {query}。请发编码、型号或TAC,如 库存 X100",
        "en": "No item {query}. Send its SKU, model or TAC, e.g. STOCK X100",
    },
    "stock.ambiguous": {
        "zh": "{query} 对应多个货品: {skus}。请发编码。",
        "en": "{query} matches several items: {skus}. Send the SKU.",
    },
    "stock.site_not_found": {
        "zh": "没有网点 {query},请发其中之一: ",
        "en": "No site {query}; send one of: ",
    },
    "stock.no_sites": {
        "zh": "暂无网点",
        "en": "no sites set up",
    },
    "stock.heading_one": {
        "zh": "{sku} {name} 库存: ",
        "en": "{sku} {name}: ",
    },
    "stock.heading_many": {
        "zh": "{sku} {name} 库存: ",
        "en": "{sku}: ",
    },
}


def text(key: str, lang: str, **values: object) -> str:
    """The message ``key`` in ``lang`` (Chinese for an unknown language), filled in."""
    entry = MESSAGES[key]
    return entry.get(lang, entry["zh"]).format(**values)


def both(key: str, **values: object) -> str:
    """The message in Chinese then English, for a reader whose language is unknown."""
    return f"{text(key, 'zh', **values)} {text(key, 'en', **values)}"


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a command module's own texts to the catalogue (each key once)."""
    for key, entry in messages.items():
        if key in MESSAGES and MESSAGES[key] != entry:
            raise ValueError(f"message {key!r} registered twice")
        MESSAGES[key] = entry
