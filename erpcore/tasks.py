"""Tasks dispatched to field staff by where they are (seed 000, claim 6).

Every user may report a last known location — a cell id, coordinates, or both — and a
state (available / busy / offline) in ``staff_status``. ``dispatch`` gives a task to the
nearest available user allowed to do tasks (``task.report``): someone in the same cell
first, then by great-circle distance, then those whose distance is unknown; ties go to
the lower user id so the choice is reproducible. The assignee becomes busy until done.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Numeric, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import audit, events, notifications, rbac, services
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from erpcore.users import User

MODULE = "tasks"
STAFF_STATES = ("available", "busy", "offline")
TASK_STATES = ("assigned", "done", "cancelled")
EARTH_RADIUS_KM = 6371.0088
MAX_DESCRIPTION = 500


class TaskNotFound(NotFound):
    code = "task.not_found"


class InvalidTask(InvalidInput):
    code = "task.invalid"


class NoStaffAvailable(Conflict):
    code = "task.no_staff"


class NotAssignee(PermissionDenied):
    code = "task.not_assignee"


@dataclass(frozen=True)
class Location:
    """Where something is: a cell id, coordinates (degrees), or both."""

    cell_id: str | None = None
    lat: float | Decimal | None = None
    lon: float | Decimal | None = None

    def coordinates(self) -> tuple[float, float] | None:
        if self.lat is None or self.lon is None:
            return None
        return float(self.lat), float(self.lon)


class StaffStatus(Base):
    __tablename__ = "staff_status"
    __table_args__ = (
        CheckConstraint("state IN ('available', 'busy', 'offline')", name="state"),
        Index("ix_staff_status_enterprise_state", "enterprise_id", "state"),
        MYSQL_TABLE_OPTIONS,
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    state: Mapped[str] = mapped_column(String(16), default="offline")
    cell_id: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    def location(self) -> Location:
        return Location(self.cell_id, self.lat, self.lon)


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_assignee_state", "enterprise_id", "assignee_user_id", "state"),
                      MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    description: Mapped[str] = mapped_column(Text)
    cell_id: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    lon: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    state: Mapped[str] = mapped_column(String(16), default="assigned")
    assignee_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.state} -> {self.assignee_user_id}>"


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two (lat, lon) points in degrees."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _clean_location(location: Location) -> tuple[str | None, Decimal | None, Decimal | None]:
    cell = (location.cell_id or "").strip() or None
    if cell is not None and len(cell) > 32:
        raise InvalidTask("cell id too long")
    if (location.lat is None) != (location.lon is None):
        raise InvalidTask("coordinates need both latitude and longitude")
    lat = lon = None
    if location.lat is not None:
        try:
            lat = Decimal(str(location.lat)).quantize(Decimal("0.000001"))
            lon = Decimal(str(location.lon)).quantize(Decimal("0.000001"))
        except (InvalidOperation, ValueError) as exc:
            raise InvalidTask("coordinates must be numbers") from exc
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise InvalidTask("coordinates out of range", lat=str(lat), lon=str(lon))
    return cell, lat, lon


def _user(session: Session, enterprise_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.enterprise_id != enterprise_id or not user.active:
        raise NotFound(f"no user {user_id}", code="user.not_found", user_id=user_id)
    return user


def report_status(
    session: Session, enterprise_id: int, user_id: int, *, state: str | None = None,
    location: Location | None = None, now: Callable[[], datetime] = notifications.utcnow,
) -> StaffStatus:
    """Record a user's state and/or last known location (whatever is given)."""
    user = _user(session, enterprise_id, user_id)
    if state is not None and state not in STAFF_STATES:
        raise InvalidTask(f"unknown staff state {state!r}", state=state)
    where = _clean_location(location) if location is not None else None
    status = session.get(StaffStatus, user.id)
    if status is None:
        status = StaffStatus(user_id=user.id, enterprise_id=enterprise_id, state="offline", updated_at=now())
        session.add(status)
    if state is not None:
        status.state = state
    if where is not None:
        status.cell_id, status.lat, status.lon = where
    status.updated_at = now()
    session.flush()
    return status


def _distance(status: StaffStatus, cell: str | None, point: tuple[float, float] | None) -> tuple[int, float]:
    """Sort key: same cell (0), known distance (1, km), unknown (2)."""
    if cell is not None and status.cell_id == cell:
        return (0, 0.0)
    mine = status.location().coordinates()
    if point is not None and mine is not None:
        return (1, haversine_km(point, mine))
    return (2, 0.0)


def nearest_available(session: Session, enterprise_id: int, location: Location) -> User | None:
    """The user dispatch would choose for ``location`` (see module docstring), or None."""
    cell, lat, lon = _clean_location(location)
    point = (float(lat), float(lon)) if lat is not None else None
    rows = session.execute(
        select(StaffStatus, User).join(User, User.id == StaffStatus.user_id)
        .where(StaffStatus.enterprise_id == enterprise_id, StaffStatus.state == "available",
               User.enterprise_id == enterprise_id, User.active.is_(True))
    ).all()
    ranked = sorted(
        ((status, user) for status, user in rows if rbac.has_permission(session, user, "task.report")),
        key=lambda pair: (*_distance(pair[0], cell, point), pair[1].id),
    )
    return ranked[0][1] if ranked else None


def dispatch(
    session: Session, enterprise_id: int, description: str, location: Location,
    *, actor_user_id: int | None = None, now: Callable[[], datetime] = notifications.utcnow,
) -> Task:
    """Create a task at ``location``, assign it to the nearest available field user, mark
    them busy and notify them by SMS. Raises NoStaffAvailable when nobody can take it."""
    services.require_open(session, enterprise_id, MODULE)
    if actor_user_id is not None:
        rbac.require(session, _user(session, enterprise_id, actor_user_id), "task.assign")
    description = (description or "").strip()
    if not description or len(description) > MAX_DESCRIPTION:
        raise InvalidTask("a task needs a description of at most 500 characters")
    cell, lat, lon = _clean_location(location)
    assignee = nearest_available(session, enterprise_id, location)
    if assignee is None:
        raise NoStaffAvailable("no available field staff", enterprise_id=enterprise_id)
    task = Task(
        enterprise_id=enterprise_id, description=description, cell_id=cell, lat=lat, lon=lon,
        state="assigned", assignee_user_id=assignee.id, created_by_user_id=actor_user_id, created_at=now(),
    )
    session.add(task)
    session.get(StaffStatus, assignee.id).state = "busy"
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "task.dispatch", "task", task.id, None,
                 {"assignee_user_id": assignee.id, "description": description})
    if assignee.msisdn:
        notifications.notify(session, events.Notification(
            enterprise_id=enterprise_id, msisdn=assignee.msisdn, user_id=assignee.id,
            text_zh=f"新任务#{task.id}:{description}。完成后回复 DONE {task.id}",
            text_en=f"New task #{task.id}: {description}. Reply DONE {task.id} when finished.",
            urgent=True, key=f"task:{task.id}:assigned",
        ), now=now)
    return task


def get_task(session: Session, enterprise_id: int, task_id: int) -> Task:
    task = session.get(Task, task_id) if isinstance(task_id, int) else None
    if task is None or task.enterprise_id != enterprise_id:
        raise TaskNotFound(f"no task {task_id!r}", task_id=task_id)
    return task


def my_tasks(session: Session, enterprise_id: int, user_id: int, include_done: bool = False) -> list[Task]:
    """The user's tasks in this enterprise, oldest first (open ones only by default)."""
    statement = select(Task).where(Task.enterprise_id == enterprise_id, Task.assignee_user_id == user_id)
    if not include_done:
        statement = statement.where(Task.state == "assigned")
    return list(session.scalars(statement.order_by(Task.id)))


def done(
    session: Session, enterprise_id: int, task_id: int, user_id: int, note: str = "",
    now: Callable[[], datetime] = notifications.utcnow,
) -> Task:
    """The assignee reports the task finished; they become available again."""
    services.require_open(session, enterprise_id, MODULE)
    task = get_task(session, enterprise_id, task_id)
    user = _user(session, enterprise_id, user_id)
    if task.assignee_user_id != user.id:
        raise NotAssignee(f"task {task.id} is not {user.username}'s", task_id=task.id)
    if task.state != "assigned":
        raise Conflict(f"task {task.id} is {task.state}", code="task.not_open", task_id=task.id)
    task.state = "done"
    task.note = (note or "").strip()[:MAX_DESCRIPTION] or None
    task.done_at = now()
    status = session.get(StaffStatus, user.id)
    if status is not None and status.state == "busy" and not _other_open(session, task):
        status.state = "available"
    session.flush()
    audit.record(session, enterprise_id, user.id, "task.done", "task", task.id,
                 {"state": "assigned"}, {"state": "done", "note": task.note})
    return task


def _other_open(session: Session, task: Task) -> bool:
    return session.scalar(
        select(Task.id).where(Task.enterprise_id == task.enterprise_id, Task.assignee_user_id == task.assignee_user_id,
                              Task.state == "assigned", Task.id != task.id).limit(1)
    ) is not None
