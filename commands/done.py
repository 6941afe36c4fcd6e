"""DONE <task> [note]: report one of my tasks finished; I become available again."""
from __future__ import annotations

from commands.formatting import number_arg
from commands.registry import Command, Context, Reply
from commands.replies import register
from erpcore import tasks

register({
    "done.done": {"zh": "任务#{task_id}已完成,谢谢。", "en": "Task #{task_id} done, thank you."},
})


def run(ctx: Context, args: list[str]) -> Reply:
    number = number_arg(args[0])
    if number is None:
        raise tasks.TaskNotFound(f"no task {args[0]!r}", task_id=args[0][:12])
    task = tasks.done(ctx.session, ctx.enterprise.id, int(number), ctx.user.id, " ".join(args[1:]))
    return Reply(ctx.t("done.done", task_id=task.id))


COMMAND = Command(
    name="DONE",
    pinyin="WC",
    chinese="完成",
    handler=run,
    min_args=1,
    module="tasks",
    writes=True,
    synopsis={"zh": "完成 编号 [备注]", "en": "DONE <no> [note]"},
    usage={
        "zh": "完成 编号 [备注] (或 WC): 报告任务完成。例: 完成 12 已修好",
        "en": "DONE <no> [note] (or WC): reports a task finished. E.g. DONE 12 fixed",
    },
)
