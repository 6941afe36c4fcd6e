"""TASK: the tasks dispatched to me that are still open (erpcore.tasks)."""
from __future__ import annotations

from commands.length import clip_word, join_fitting
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import tasks

register({
    "task.none": {"zh": "您没有未完成的任务。", "en": "You have no open task."},
    "task.head": {"zh": "任务({count}): ", "en": "Tasks ({count}): "},
    "task.tail": {"zh": "。完成后发 完成 编号", "en": ". Send DONE <no> when finished"},
})


def run(ctx: Context, args: list[str]) -> Reply:
    mine = tasks.my_tasks(ctx.session, ctx.enterprise.id, ctx.user.id)
    if not mine:
        return Reply(ctx.t("task.none"))
    entries = [f"#{task.id} {clip_word(task.description, 40)}" for task in mine]
    return Reply(join_fitting(ctx.t("task.head", count=len(mine)), entries, "; ", ctx.t("task.tail")))


COMMAND = Command(
    name="TASK",
    pinyin="RW",
    chinese="任务",
    handler=run,
    max_args=0,
    module="tasks",
    synopsis={"zh": "任务", "en": "TASK"},
    usage={
        "zh": "任务 (或 RW): 列出派给您的未完成任务。完成后发 完成 编号",
        "en": "TASK (or RW): lists the tasks dispatched to you. Send DONE <no> when one is finished",
    },
)
