"""HELP [command]: the list of commands, or one command's usage.

Only commands that are registered are listed, so HELP never advertises one that does
not exist yet.
"""
from __future__ import annotations

from commands.length import clip_word, join_fitting
from commands.registry import Command, Context, Reply
from commands.suggest import suggest


def run(ctx: Context, args: list[str]) -> Reply:
    if args:
        command = ctx.registry.lookup(args[0])
        if command is None:
            return _unknown(ctx, args[0])
        return Reply(command.usage[ctx.lang])
    # Names only, so the list stays one SMS; a command's synopsis, pinyin and example
    # are a HELP <command> away.
    names = [command.label(ctx.lang) for command in ctx.registry.commands]
    head, _, tail = ctx.t("help.list", commands="\0").partition("\0")
    return Reply(join_fitting(head, names, " ", tail))


def _unknown(ctx: Context, word: str) -> Reply:
    suggestion = suggest(ctx.registry, word)
    if suggestion is not None:
        proposal = f"{COMMAND.label(ctx.lang)} {suggestion}"
        text = ctx.t("unknown_command_suggest", word=clip_word(word), suggestion=proposal)
    else:
        text = ctx.t("unknown_command", word=clip_word(word))
    return Reply(text, ok=False)


COMMAND = Command(
    name="HELP",
    pinyin="BZ",
    chinese="帮助",
    aliases=("?",),
    handler=run,
    max_args=1,
    synopsis={"zh": "帮助 [指令]", "en": "HELP [command]"},
    usage={
        "zh": "帮助 [指令] (或 ? / BZ): 列出全部指令,或一条指令的用法。例: 帮助 库存",
        "en": "HELP [command] (or ? / BZ): lists the commands, or one command's usage. E.g. HELP STOCK",
    },
)
