"""TASK (RW / 任务): the tasks dispatched to me that are still open."""
from __future__ import annotations

from datetime import datetime

import pytest

from commands.length import parts_needed
from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, give_task
from tests.commands.cmd_tables import is_reply

COMMAND = "TASK"
ALIASES = ["TASK", "task", "Task", "RW", "rw", "任务", "ＲＷ", "ｔａｓｋ", " 任务 ＃"]
ERRORS = [
    (KEEPER, "RW now", "usage", "用法: 任务 (或 RW): 列出派给您的未完成任务。完成后发 完成 编号"),
    (MANAGER, "TASK 1", "usage",
     "Usage: TASK (or RW): lists the tasks dispatched to you. Send DONE <no> when one is finished"),
]


@pytest.mark.parametrize("text", ALIASES)
def test_every_alias_lists_my_open_tasks(send, sessionmaker, text):
    task_id = give_task(sessionmaker)
    outcome = send(KEEPER, text)
    assert (outcome.ok, outcome.command) == (True, "TASK")
    assert outcome.reply == f"任务(1): #{task_id} fix the till。完成后发 完成 编号"
    assert send(CLERK, text).reply == "您没有未完成的任务。"


def test_many_long_tasks_fit_in_three_sms(send, sessionmaker):
    from erpcore import tasks
    from tests.commands.cmd_helpers import in_db, user

    give_task(sessionmaker)

    def more(s):
        who = user(s, KEEPER)
        s.add_all(tasks.Task(enterprise_id=who.enterprise_id, description=f"任务{n} " + "检查柜台" * 30,
                             assignee_user_id=who.id, created_at=datetime(2024, 3, 5)) for n in range(30))
    in_db(sessionmaker, more)
    reply = send(KEEPER, "RW").reply
    assert parts_needed(reply) <= 3 and reply.startswith("任务(")


@pytest.mark.parametrize("sender, text, key, reply", ERRORS)
def test_task_refusals(send, sender, text, key, reply):
    outcome = send(sender, text)
    assert (outcome.ok, outcome.reply) == (False, reply) and is_reply(key, reply)
