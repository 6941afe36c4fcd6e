"""Field tasks go to the nearest available member of staff (seed 000, claim 6)."""
from __future__ import annotations

import pytest

from erpcore import notifications, tasks
from erpcore.errors import NotFound, PermissionDenied
from erpcore.tasks import Location

# Around Xiamen: the task, a clerk 1 km away, one 8 km away.
TASK_AT = Location(cell_id="460-00-1001", lat=24.4798, lon=118.0894)
NEAR = Location(cell_id="460-00-2002", lat=24.4888, lon=118.0894)
FAR = Location(cell_id="460-00-3003", lat=24.5518, lon=118.0894)


def place(session, world, username, state, location):
    tasks.report_status(session, world.demo, world.users[username], state=state, location=location)


def test_haversine_matches_a_known_distance():
    """One degree of latitude is about 111.2 km anywhere."""
    assert tasks.haversine_km((24.0, 118.0), (25.0, 118.0)) == pytest.approx(111.2, abs=0.1)
    assert tasks.haversine_km((24.0, 118.0), (24.0, 118.0)) == 0


def test_a_task_goes_to_the_nearest_available_clerk_not_a_busy_one(session, world):
    place(session, world, "zhang", "busy", NEAR)
    place(session, world, "chen", "available", FAR)
    task = tasks.dispatch(session, world.demo, "门店海报更换", TASK_AT, actor_user_id=world.users["smith"])
    assert task.assignee_user_id == world.users["chen"]
    assert session.get(tasks.StaffStatus, world.users["chen"]).state == "busy"
    told, = notifications.for_user(session, world.demo, world.users["chen"])
    assert told.text_zh == f"新任务#{task.id}:门店海报更换。完成后回复 DONE {task.id}"
    assert told.urgent


def test_distance_decides_between_available_staff(session, world):
    place(session, world, "chen", "available", FAR)
    place(session, world, "zhang", "available", NEAR)
    assert tasks.dispatch(session, world.demo, "盘点", TASK_AT).assignee_user_id == world.users["zhang"]


def test_someone_in_the_same_cell_comes_first_even_without_coordinates(session, world):
    place(session, world, "zhang", "available", NEAR)
    place(session, world, "chen", "available", Location(cell_id=TASK_AT.cell_id))
    assert tasks.dispatch(session, world.demo, "盘点", TASK_AT).assignee_user_id == world.users["chen"]


def test_staff_without_task_report_permission_or_offline_are_never_chosen(session, world):
    place(session, world, "li", "available", TASK_AT)  # finance: no task.report
    place(session, world, "zhang", "offline", TASK_AT)
    with pytest.raises(tasks.NoStaffAvailable) as caught:
        tasks.dispatch(session, world.demo, "盘点", TASK_AT)
    assert caught.value.code == "task.no_staff"
    assert tasks.my_tasks(session, world.demo, world.users["li"]) == []


def test_done_frees_the_assignee_and_only_the_assignee_may_report_it(session, world):
    place(session, world, "zhang", "available", NEAR)
    task = tasks.dispatch(session, world.demo, "盘点", TASK_AT)
    assert [t.id for t in tasks.my_tasks(session, world.demo, world.users["zhang"])] == [task.id]
    with pytest.raises(tasks.NotAssignee):
        tasks.done(session, world.demo, task.id, world.users["chen"], "done")
    tasks.done(session, world.demo, task.id, world.users["zhang"], "海报已换")
    assert (task.state, task.note) == ("done", "海报已换")
    assert session.get(tasks.StaffStatus, world.users["zhang"]).state == "available"
    assert tasks.my_tasks(session, world.demo, world.users["zhang"]) == []
    assert len(tasks.my_tasks(session, world.demo, world.users["zhang"], include_done=True)) == 1
    with pytest.raises(tasks.Conflict):
        tasks.done(session, world.demo, task.id, world.users["zhang"])


def test_dispatching_needs_task_assign(session, world):
    place(session, world, "zhang", "available", NEAR)
    with pytest.raises(PermissionDenied):
        tasks.dispatch(session, world.demo, "盘点", TASK_AT, actor_user_id=world.users["chen"])


@pytest.mark.parametrize("bad", [
    Location(lat=24.0),
    Location(lat=91, lon=0),
    Location(lat="north", lon="east"),
    Location(cell_id="x" * 40),
])
def test_bad_locations_are_refused(session, world, bad):
    with pytest.raises(tasks.InvalidTask):
        tasks.report_status(session, world.demo, world.users["zhang"], location=bad)
    with pytest.raises(tasks.InvalidTask):
        tasks.report_status(session, world.demo, world.users["zhang"], state="sleeping")


def test_tasks_are_scoped_to_their_tenant(session, world):
    place(session, world, "zhang", "available", NEAR)
    task = tasks.dispatch(session, world.demo, "盘点", TASK_AT)
    with pytest.raises(NotFound):  # OTHER's dispatch never reaches DEMO's staff
        tasks.dispatch(session, world.other, "x", TASK_AT, actor_user_id=world.users["smith"])
    with pytest.raises(tasks.NoStaffAvailable):
        tasks.dispatch(session, world.other, "x", TASK_AT)
    with pytest.raises(tasks.TaskNotFound):
        tasks.done(session, world.other, task.id, world.other_user)
    with pytest.raises(NotFound):
        tasks.report_status(session, world.other, world.users["zhang"], state="available")
    assert tasks.my_tasks(session, world.other, world.users["zhang"]) == []
    assert task.state == "assigned"
