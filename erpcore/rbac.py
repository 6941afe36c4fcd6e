"""Roles and the permissions they grant (seed 003: ERP/OA role-based access).

`User.role` is a user's primary role; the `user_roles` table holds extra ones (a manager
who also does finance). A permission is granted when any of the user's roles grants it.
Inactive users hold no permission.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import InvalidInput, PermissionDenied
from erpcore.tenants import transaction_memo
from erpcore.users import User

PERMISSIONS = frozenset({
    "stock.view", "stock.move", "order.create", "order.approve", "order.view_all",
    "alert.manage", "task.assign", "task.report", "service.manage", "admin.users",
    "share.manage",
})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "clerk": frozenset({"stock.view", "order.create", "task.report"}),
    "agent": frozenset({"stock.view", "order.create", "task.report"}),
    "storekeeper": frozenset({"stock.view", "stock.move", "task.report"}),
    "finance": frozenset({"stock.view", "order.view_all", "order.approve"}),
    "manager": frozenset({
        "stock.view", "stock.move", "order.create", "order.approve", "order.view_all",
        "alert.manage", "task.assign", "task.report", "share.manage",
    }),
    "admin": PERMISSIONS,
}
ROLES = tuple(ROLE_PERMISSIONS)


class UnknownRole(InvalidInput):
    code = "rbac.unknown_role"


class UnknownPermission(InvalidInput):
    code = "rbac.unknown_permission"


class UserRole(Base):
    """An extra role of a user, beside `User.role`."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(String(32))


def check_role(role: str) -> str:
    if role not in ROLE_PERMISSIONS:
        raise UnknownRole(f"unknown role {role!r}", role=role, roles=ROLES)
    return role


def roles_of(session: Session, user: User) -> set[str]:
    """The primary role and the extra ones (only rows of the user's own tenant count).

    Extra roles are read once per transaction and user (a command checks several
    permissions of one user; a dispatcher batch may read its senders' at once with
    `remember_roles`); a grant or revoke in the transaction stops that for its rest."""
    memo = transaction_memo(session, _ROLES_MEMO)
    key = (user.id, user.enterprise_id)
    extra = None if memo.get(_CHANGED) else memo.get(key)
    if extra is None:
        params = {"user_id": user.id, "enterprise_id": user.enterprise_id}
        extra = frozenset(session.scalars(_EXTRA_ROLES, params))
        if not memo.get(_CHANGED):
            memo[key] = extra
    return {user.role, *extra}


def remember_roles(session: Session, users: Iterable[User]) -> None:
    """Read the extra roles of many users in one query for the rest of the transaction."""
    memo = transaction_memo(session, _ROLES_MEMO)
    if memo.get(_CHANGED):
        return
    wanted = {(u.id, u.enterprise_id) for u in users if (u.id, u.enterprise_id) not in memo}
    if not wanted:
        return
    found: dict[tuple[int, int], set[str]] = {key: set() for key in wanted}
    rows = session.execute(_EXTRA_ROLES_OF, {"user_ids": sorted({uid for uid, _ in wanted})})
    for user_id, enterprise_id, role in rows:
        if (user_id, enterprise_id) in found:
            found[user_id, enterprise_id].add(role)
    for key, roles in found.items():
        memo[key] = frozenset(roles)


def _roles_changed(session: Session) -> None:
    """A grant or revoke: what was remembered may be stale; remember nothing more."""
    memo = transaction_memo(session, _ROLES_MEMO)
    memo.clear()
    memo[_CHANGED] = True


_ROLES_MEMO = "merp.extra_roles"
_CHANGED = "changed"
_EXTRA_ROLES = select(UserRole.role).where(
    UserRole.user_id == bindparam("user_id"), UserRole.enterprise_id == bindparam("enterprise_id")
)
_EXTRA_ROLES_OF = select(UserRole.user_id, UserRole.enterprise_id, UserRole.role).where(
    UserRole.user_id.in_(bindparam("user_ids", expanding=True))
)


def permissions_of(session: Session, user: User) -> frozenset[str]:
    if not user.active:
        return frozenset()
    granted: set[str] = set()
    for role in roles_of(session, user):
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)


def has_permission(session: Session, user: User | None, perm: str) -> bool:
    """Whether ``user`` may do ``perm``; a misspelt permission is a programming error
    and raises rather than silently denying."""
    if perm not in PERMISSIONS:
        raise UnknownPermission(f"unknown permission {perm!r}", permission=perm)
    if user is None:
        return False
    return perm in permissions_of(session, user)


def require(session: Session, user: User | None, perm: str) -> None:
    """Raise PermissionDenied (code "rbac.denied") unless ``user`` may do ``perm``."""
    if not has_permission(session, user, perm):
        raise PermissionDenied(
            f"{getattr(user, 'username', 'nobody')} may not {perm}",
            code="rbac.denied", permission=perm,
        )


def grant_role(session: Session, user: User, role: str) -> bool:
    """Give ``user`` an extra role; False when the user already holds it."""
    check_role(role)
    if role in roles_of(session, user):
        return False
    _roles_changed(session)
    session.add(UserRole(enterprise_id=user.enterprise_id, user_id=user.id, role=role))
    session.flush()
    return True


def revoke_role(session: Session, user: User, role: str) -> bool:
    """Take an extra role away; False when the user did not hold it as an extra role."""
    row = session.scalars(
        select(UserRole).where(
            UserRole.user_id == user.id, UserRole.enterprise_id == user.enterprise_id,
            UserRole.role == role,
        )
    ).first()
    if row is None:
        return False
    _roles_changed(session)
    session.delete(row)
    session.flush()
    return True
