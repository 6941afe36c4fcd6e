"""DONE (WC / 完成): report one of my tasks finished (with an optional note)."""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import CLERK, KEEPER, give_task, in_db
from tests.commands.cmd_tables import is_reply

COMMAND = "DONE"
ALIASES = ["DONE {id}", "done {id} all good", "WC {id}", "wc {id}", "完成 {id} 已修好", "完成#{id}", "完成{id}",
           "ＷＣ　{id}", "WC,{id}", "WC+{id}+ok", "WC，#{id}"]
ERRORS = [
    (KEEPER, "WC", "usage", "用法: 完成 编号 [备注] (或 WC): 报告任务完成。例: 完成 12 已修好"),
    (KEEPER, "WC 999", "task.not_found", "没有任务 999。发 任务 查看您的任务。"),
    (KEEPER, "WC abc", "task.not_found", "没有任务 abc。发 任务 查看您的任务。"),
    (CLERK, "WC {id}", "task.not_assignee", "任务 {id} 不是派给您的。发 任务 查看您的任务。"),
]


def task_state(sessionmaker, task_id):
    from erpcore.tasks import Task

    return in_db(sessionmaker, lambda s: s.get(Task, task_id).state)


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_closes_my_task(send, sessionmaker, text):
    task_id = give_task(sessionmaker)
    outcome = send(KEEPER, text.format(id=task_id))
    assert (outcome.ok, outcome.command, outcome.reply) == (True, "DONE", f"任务#{task_id}已完成,谢谢。")
    assert task_state(sessionmaker, task_id) == "done"


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_done_refusals_leave_the_task_open(send, sessionmaker, sender, text, key, reply):
    task_id = give_task(sessionmaker)
    outcome = send(sender, text.format(id=task_id))
    assert (outcome.ok, outcome.reply) == (False, reply.format(id=task_id)) and is_reply(key, outcome.reply)
    assert task_state(sessionmaker, task_id) == "assigned"


def test_a_finished_task_cannot_be_done_again(send, sessionmaker):
    task_id = give_task(sessionmaker)
    assert send(KEEPER, f"WC {task_id}").ok
    outcome = send(KEEPER, f"完成 {task_id}")
    assert (outcome.ok, outcome.reply) == (False, f"任务 {task_id} 已完成。发 任务 查看未完成的任务。")
    assert is_reply("task.not_open", outcome.reply)
