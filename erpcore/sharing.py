"""Sharing business data between organisations (seed 001: 同组商号).

A tenant creates a group; the group, its member list and its rules live with that
creating tenant, and only it changes them. Members are invited by enterprise code on this
or another tenant cloud and accept or decline. A rule says, for one ordered pair (data
owner → viewer) and one kind of data, how much the viewer sees: none, summary, detail or
everything. Nothing is copied: what a viewer sees is read live from the owner's rows, so a
member who leaves — or a group that is dissolved — takes every rule with it and nothing
of the leaver stays visible.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, delete, or_, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from erpcore import audit, clouds, rbac, services
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from erpcore.items import AmbiguousItem, ItemNotFound, find_item
from erpcore.notifications import utcnow
from erpcore.stock import stock_of
from erpcore.tenants import Enterprise
from erpcore.users import User

MODULE = "sharing"
LEVELS = ("none", "summary", "detail", "everything")
DATA_KINDS = ("stock", "orders", "items", "partners")
MEMBER_STATES = ("invited", "accepted", "declined")
DEFAULT_CLOUD = ""


class GroupNotFound(NotFound):
    code = "share.group_not_found"


class InvalidShare(InvalidInput):
    code = "share.invalid"


class NotShared(PermissionDenied):
    code = "share.not_shared"


class ShareGroup(Base):
    __tablename__ = "share_groups"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ShareMember(Base):
    """A tenant in a group; ``enterprise_id`` is None for a tenant not hosted here."""

    __tablename__ = "share_members"
    __table_args__ = (UniqueConstraint("group_id", "cloud_code", "enterprise_code"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("share_groups.id"))
    cloud_code: Mapped[str] = mapped_column(String(32))  # "" for the default cloud
    enterprise_code: Mapped[str] = mapped_column(String(32))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))


class ShareRule(Base):
    __tablename__ = "share_rules"
    __table_args__ = (
        UniqueConstraint("group_id", "owner_member_id", "viewer_member_id", "kind"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("share_groups.id"))
    owner_member_id: Mapped[int] = mapped_column(ForeignKey("share_members.id"))
    viewer_member_id: Mapped[int] = mapped_column(ForeignKey("share_members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16))


def _actor(session: Session, enterprise_id: int, actor_user_id: int | None) -> int | None:
    """Check the acting user (when given) may manage sharing for this enterprise."""
    if actor_user_id is not None:
        user = session.get(User, actor_user_id)
        if user is None or user.enterprise_id != enterprise_id:
            raise NotFound(f"no user {actor_user_id}", code="user.not_found")
        rbac.require(session, user, "share.manage")
    return actor_user_id


def _cloud_code(session: Session, enterprise: Enterprise) -> str:
    if enterprise.cloud_id is None:
        return DEFAULT_CLOUD
    cloud = session.get(clouds.TenantCloud, enterprise.cloud_id)
    return cloud.code if cloud is not None else DEFAULT_CLOUD


def _owned_group(session: Session, enterprise_id: int, group_id: int) -> ShareGroup:
    group = session.get(ShareGroup, group_id) if isinstance(group_id, int) else None
    if group is None or group.owner_enterprise_id != enterprise_id:
        raise GroupNotFound(f"no group {group_id!r}", group_id=group_id)
    return group


def _membership(session: Session, enterprise_id: int, group_id: int) -> ShareMember:
    member = session.scalars(
        select(ShareMember).where(ShareMember.group_id == group_id, ShareMember.enterprise_id == enterprise_id)
    ).first()
    if member is None:
        raise GroupNotFound(f"no group {group_id!r}", group_id=group_id)
    return member


def create_group(
    session: Session, enterprise_id: int, name: str, *, actor_user_id: int | None = None,
    now: Callable[[], datetime] = utcnow,
) -> ShareGroup:
    """A new group owned by this enterprise, which is its first (accepted) member."""
    services.require_open(session, enterprise_id, MODULE)
    _actor(session, enterprise_id, actor_user_id)
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise InvalidShare("a group needs a name of at most 128 characters")
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(f"no enterprise {enterprise_id}", code="enterprise.not_found")
    group = ShareGroup(owner_enterprise_id=enterprise_id, name=name, created_at=now())
    session.add(group)
    session.flush()
    session.add(ShareMember(group_id=group.id, cloud_code=_cloud_code(session, enterprise),
                            enterprise_code=enterprise.code, enterprise_id=enterprise.id, state="accepted"))
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "share.create", "share_group", group.id, None, {"name": name})
    return group


def invite(
    session: Session, enterprise_id: int, group_id: int, enterprise_code: str,
    cloud_code: str | None = None, *, actor_user_id: int | None = None,
) -> ShareMember:
    """Invite the tenant (cloud code, enterprise code) into a group this enterprise owns.
    A tenant hosted here is linked at once; one on a cloud known but not hosted here is
    kept by its codes until that cloud answers."""
    services.require_open(session, enterprise_id, MODULE)
    _actor(session, enterprise_id, actor_user_id)
    group = _owned_group(session, enterprise_id, group_id)
    code = (enterprise_code or "").strip()
    cloud = (cloud_code or DEFAULT_CLOUD).strip()
    if not code or len(code) > 32 or len(cloud) > 32:
        raise InvalidShare("an invitee needs an enterprise code")
    invitee = session.scalars(select(Enterprise).where(Enterprise.code == code)).first()
    if invitee is not None and _cloud_code(session, invitee) != cloud:
        invitee = None
    if invitee is None and (cloud == DEFAULT_CLOUD or clouds.find_cloud(session, cloud) is None):
        raise NotFound(f"no enterprise {code!r} on cloud {cloud!r}", code="share.unknown_tenant")
    exists = session.scalars(
        select(ShareMember).where(ShareMember.group_id == group.id, ShareMember.cloud_code == cloud,
                                  ShareMember.enterprise_code == code)
    ).first()
    if exists is not None:
        if exists.state != "declined":
            raise Conflict(f"{code} is already in the group", code="share.already_member")
        exists.state = "invited"
        member = exists
    else:
        member = ShareMember(group_id=group.id, cloud_code=cloud, enterprise_code=code,
                             enterprise_id=invitee.id if invitee else None, state="invited")
        session.add(member)
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "share.invite", "share_group", group.id, None,
                 {"cloud": cloud, "enterprise": code})
    return member


def _answer(session: Session, enterprise_id: int, group_id: int, state: str, actor_user_id: int | None) -> ShareMember:
    services.require_open(session, enterprise_id, MODULE)
    _actor(session, enterprise_id, actor_user_id)
    member = _membership(session, enterprise_id, group_id)
    if member.state != "invited":
        raise Conflict(f"the invitation is {member.state}", code="share.not_invited")
    member.state = state
    session.flush()
    group = session.get(ShareGroup, group_id)
    audit.record(session, group.owner_enterprise_id, None, f"share.{state}", "share_group", group_id, None,
                 {"enterprise": member.enterprise_code})
    return member


def accept(session: Session, enterprise_id: int, group_id: int, *, actor_user_id: int | None = None) -> ShareMember:
    return _answer(session, enterprise_id, group_id, "accepted", actor_user_id)


def decline(session: Session, enterprise_id: int, group_id: int, *, actor_user_id: int | None = None) -> ShareMember:
    return _answer(session, enterprise_id, group_id, "declined", actor_user_id)


def set_rule(
    session: Session, enterprise_id: int, group_id: int, *, owner_id: int, viewer_id: int,
    kind: str, level: str, actor_user_id: int | None = None,
) -> ShareRule | None:
    """How much of ``owner_id``'s ``kind`` data ``viewer_id`` sees through this group.
    Only the creating tenant sets rules; "none" removes the rule."""
    services.require_open(session, enterprise_id, MODULE)
    _actor(session, enterprise_id, actor_user_id)
    group = _owned_group(session, enterprise_id, group_id)
    if kind not in DATA_KINDS or level not in LEVELS:
        raise InvalidShare(f"bad kind {kind!r} or level {level!r}", kinds=DATA_KINDS, levels=LEVELS)
    if owner_id == viewer_id:
        raise InvalidShare("a rule joins two different tenants")
    owner = _membership(session, owner_id, group.id)
    viewer = _membership(session, viewer_id, group.id)
    rule = session.scalars(
        select(ShareRule).where(ShareRule.group_id == group.id, ShareRule.owner_member_id == owner.id,
                                ShareRule.viewer_member_id == viewer.id, ShareRule.kind == kind)
    ).first()
    before = {"level": rule.level} if rule else None
    if level == "none":
        if rule is not None:
            session.delete(rule)
        rule = None
    elif rule is None:
        rule = ShareRule(group_id=group.id, owner_member_id=owner.id, viewer_member_id=viewer.id,
                         kind=kind, level=level)
        session.add(rule)
    else:
        rule.level = level
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "share.rule", "share_group", group.id, before,
                 {"owner": owner.enterprise_code, "viewer": viewer.enterprise_code, "kind": kind, "level": level})
    return rule


def visible(session: Session, viewer_id: int, owner_id: int, kind: str) -> str:
    """The most any group in which both tenants have accepted lets ``viewer_id`` see of
    ``owner_id``'s ``kind`` data ("everything" of its own)."""
    if kind not in DATA_KINDS:
        raise InvalidShare(f"bad kind {kind!r}", kinds=DATA_KINDS)
    if viewer_id == owner_id:
        return "everything"
    owner, viewer = aliased(ShareMember), aliased(ShareMember)
    levels = session.scalars(
        select(ShareRule.level)
        .join(owner, owner.id == ShareRule.owner_member_id)
        .join(viewer, viewer.id == ShareRule.viewer_member_id)
        .where(owner.enterprise_id == owner_id, viewer.enterprise_id == viewer_id,
               owner.state == "accepted", viewer.state == "accepted", ShareRule.kind == kind)
    )
    return max(levels, key=LEVELS.index, default="none")


@dataclass(frozen=True)
class SharedSite:
    code: str
    name: str
    quantity: int


@dataclass(frozen=True)
class SharedStock:
    """What a viewer may see of a partner's stock of one item: the total from "summary",
    per-site quantities from "detail", the item's price and model at "everything"."""

    level: str
    sku: str
    name: str
    total: int
    sites: tuple[SharedSite, ...] | None = None
    model: str | None = None
    unit_price: Decimal | None = None


def shared_stock(session: Session, viewer_id: int, owner_id: int, item_query: str) -> SharedStock:
    """The owner's stock of the item ``item_query`` names, cut to what the viewer may see.
    Raises NotShared when nothing is shared, NotFound for an item the owner lacks."""
    level = visible(session, viewer_id, owner_id, "stock")
    if level == "none":
        raise NotShared("this stock is not shared with you", owner_id=owner_id)
    try:
        result = stock_of(session, owner_id, item_query)
        item = find_item(session, owner_id, item_query)
    except (ItemNotFound, AmbiguousItem) as exc:
        raise NotFound(str(exc), code="item.not_found") from exc
    shared = SharedStock(level=level, sku=result.sku, name=result.name, total=result.total)
    if level == "summary":
        return shared
    sites = tuple(SharedSite(s.code, s.name, s.quantity) for s in result.levels)
    if level == "detail":
        return SharedStock(level, result.sku, result.name, result.total, sites)
    return SharedStock(level, result.sku, result.name, result.total, sites, item.model, item.unit_price)


def _drop_rules_of(session: Session, member_ids: list[int]) -> None:
    session.execute(delete(ShareRule).where(
        or_(ShareRule.owner_member_id.in_(member_ids), ShareRule.viewer_member_id.in_(member_ids))
    ))


def leave(session: Session, enterprise_id: int, group_id: int, *, actor_user_id: int | None = None) -> None:
    """This enterprise leaves a group it did not create: its membership and every rule
    involving it go, so neither side sees the other through this group any more."""
    services.require_open(session, enterprise_id, MODULE)
    _actor(session, enterprise_id, actor_user_id)
    member = _membership(session, enterprise_id, group_id)
    group = session.get(ShareGroup, group_id)
    if group.owner_enterprise_id == enterprise_id:
        raise Conflict("the creating tenant dissolves the group instead", code="share.owner_cannot_leave")
    _drop_rules_of(session, [member.id])
    session.delete(member)
    session.flush()
    audit.record(session, group.owner_enterprise_id, None, "share.leave", "share_group", group.id,
                 {"enterprise": member.enterprise_code}, None)


def dissolve(session: Session, enterprise_id: int, group_id: int, *, actor_user_id: int | None = None) -> None:
    """The creating tenant removes the group, its members and all its rules."""
    services.require_open(session, enterprise_id, MODULE)
    _actor(session, enterprise_id, actor_user_id)
    group = _owned_group(session, enterprise_id, group_id)
    session.execute(delete(ShareRule).where(ShareRule.group_id == group.id))
    session.execute(delete(ShareMember).where(ShareMember.group_id == group.id))
    before = {"name": group.name}
    session.delete(group)
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "share.dissolve", "share_group", group_id, before, None)


def groups_of(session: Session, enterprise_id: int) -> list[ShareGroup]:
    """The groups this enterprise belongs to (created, accepted or invited into)."""
    return list(session.scalars(
        select(ShareGroup).join(ShareMember, ShareMember.group_id == ShareGroup.id)
        .where(ShareMember.enterprise_id == enterprise_id, ShareMember.state != "declined")
        .order_by(ShareGroup.id)
    ))


def members(session: Session, enterprise_id: int, group_id: int) -> list[ShareMember]:
    """The member list, for a tenant in the group."""
    _membership(session, enterprise_id, group_id)
    return list(session.scalars(select(ShareMember).where(ShareMember.group_id == group_id).order_by(ShareMember.id)))


def rules(session: Session, enterprise_id: int, group_id: int) -> list[ShareRule]:
    """The group's rules, for a tenant in the group."""
    _membership(session, enterprise_id, group_id)
    return list(session.scalars(select(ShareRule).where(ShareRule.group_id == group_id).order_by(ShareRule.id)))
