"""TASK (RW / 任务), DONE (WC / 完成) and IMEI (CH / 串号)."""
from __future__ import annotations

import pytest

from tests.commands.cmd_helpers import CLERK, KEEPER, MANAGER, close, give_task, in_db


def task_state(sessionmaker, task_id):
    from erpcore.tasks import Task
    return in_db(sessionmaker, lambda s: s.get(Task, task_id).state)


@pytest.mark.parametrize("text", ["TASK", "task", "RW", "任务"])
def test_task_lists_my_open_tasks(send, sessionmaker, text):
    task_id = give_task(sessionmaker)
    assert send(KEEPER, text).reply == f"任务(1): #{task_id} fix the till。完成后发 完成 编号"
    assert send(CLERK, text).reply == "您没有未完成的任务。"


@pytest.mark.parametrize("text", ["DONE {id}", "done {id} all good", "WC {id}", "完成 {id} 已修好", "完成#{id}"])
def test_every_alias_of_done_closes_my_task(send, sessionmaker, text):
    task_id = give_task(sessionmaker)
    outcome = send(KEEPER, text.format(id=task_id))
    assert outcome.ok and outcome.reply == f"任务#{task_id}已完成,谢谢。"
    assert task_state(sessionmaker, task_id) == "done"


@pytest.mark.parametrize("sender, text, fragment", [
    (KEEPER, "WC", "用法: 完成"),
    (KEEPER, "WC 999", "没有任务 999"),
    (KEEPER, "WC abc", "没有任务 abc"),
    (CLERK, "WC {id}", "不是派给您的"),
    (KEEPER, "RW now", "用法: 任务"),
])
def test_task_refusals(send, sessionmaker, sender, text, fragment):
    task_id = give_task(sessionmaker)
    outcome = send(sender, text.format(id=task_id))
    assert not outcome.ok and fragment in outcome.reply
    assert task_state(sessionmaker, task_id) == "assigned"


def test_a_closed_tasks_service_refuses_done(send, sessionmaker):
    task_id = give_task(sessionmaker)
    close(sessionmaker, "tasks")
    outcome = send(KEEPER, f"WC {task_id}")
    assert not outcome.ok and outcome.reply == "贵企业未开通任务业务,请联系管理员开通。"
    assert task_state(sessionmaker, task_id) == "assigned"


IMEI = "861234560000001"


@pytest.fixture
def handset(sessionmaker):
    """One serialised X100 handset received at WH1 (through a real stock movement)."""
    from erpcore import imei, movements
    from erpcore.items import find_item
    from erpcore.sites import get_site
    from tests.commands.cmd_helpers import demo, user

    def run(s):
        e = demo(s)
        item = find_item(s, e.id, "X100")
        item.serialised = True
        s.flush()
        good = IMEI[:-1] + imei.luhn_check_digit(IMEI[:-1])
        movements.move(s, e.id, kind="receive", item_id=item.id, quantity=1, to_site_id=get_site(s, e.id, "WH1").id,
                       imeis=[good], actor_user_id=user(s, MANAGER).id)
        return good
    return in_db(sessionmaker, run)


@pytest.mark.parametrize("text", ["IMEI {i}", "imei {i}", "CH {i}", "串号 {i}", "串号{i}"])
def test_imei_says_where_a_handset_is(send, handset, text):
    outcome = send(MANAGER, text.format(i=handset))
    assert outcome.ok and outcome.reply.startswith(f"{handset} X100 in stock WH1. History: ")
    assert outcome.reply.endswith("receive ->WH1")


@pytest.mark.parametrize("text, fragment", [
    ("CH", "用法: 串号"),
    ("CH 123", "串号 123 无效"),
    ("CH 86123456000000X", "无效"),
    (f"CH {IMEI[:-1]}9", "没有串号"),
])
def test_imei_refusals(send, text, fragment):
    outcome = send(KEEPER, text)
    assert not outcome.ok and fragment in outcome.reply
