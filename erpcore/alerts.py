"""Low-stock alerts: rules per item and site with a threshold and the users to tell.

A rule fires when a level crosses from at-or-above its threshold to below it — once per
crossing, not once per movement: 12 → 9 fires, 9 → 8 does not, and only a rise back to
the threshold re-arms it. The crossing is read from ``StockChanged.before/after``, so no
per-rule state can drift from the stock itself. A rule without an item watches every item,
a rule without a site every site (each site separately).
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, UniqueConstraint, delete, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import audit, events, notifications, rbac, services
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import InvalidInput, NotFound
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.users import User

MODULE = "alerts"
DEFAULT_THRESHOLD = 10
MAX_THRESHOLD = 1_000_000


class InvalidAlert(InvalidInput):
    code = "alert.invalid"


class AlertNotFound(NotFound):
    code = "alert.not_found"


class AlertRule(Base):
    __tablename__ = "alert_rules"
    __table_args__ = (Index("ix_alert_rules_enterprise_item", "enterprise_id", "item_id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    threshold: Mapped[int]


class AlertRecipient(Base):
    __tablename__ = "alert_recipients"
    __table_args__ = (UniqueConstraint("rule_id", "user_id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)


class AlertFiring(Base):
    """One crossing of one rule: what the recipients were told about."""

    __tablename__ = "alert_firings"
    __table_args__ = (Index("ix_alert_firings_rule", "rule_id", "id"), MYSQL_TABLE_OPTIONS)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    before: Mapped[int]
    after: Mapped[int]
    movement_id: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(DateTime)


def _check(session: Session, enterprise_id: int, item_id: int | None, site_id: int | None, threshold) -> None:
    for model, row_id, what in ((Item, item_id, "item"), (Site, site_id, "site")):
        if row_id is not None:
            row = session.get(model, row_id)
            if row is None or row.enterprise_id != enterprise_id:
                raise NotFound(f"no {what} {row_id}", code=f"{what}.not_found")
    if threshold is not None and (
        not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 < threshold <= MAX_THRESHOLD
    ):
        raise InvalidAlert(f"bad threshold {threshold!r}", threshold=threshold)


def _user(session: Session, enterprise_id: int, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or user.enterprise_id != enterprise_id or not user.active:
        raise NotFound(f"no user {user_id}", code="user.not_found", user_id=user_id)
    return user


def _matching_rules(session: Session, enterprise_id: int, item_id: int | None, site_id: int | None):
    return select(AlertRule).where(
        AlertRule.enterprise_id == enterprise_id,
        AlertRule.item_id.is_(None) if item_id is None else AlertRule.item_id == item_id,
        AlertRule.site_id.is_(None) if site_id is None else AlertRule.site_id == site_id,
    )


def subscribe(
    session: Session, enterprise_id: int, user_id: int, item_id: int | None, threshold: int | None,
    *, site_id: int | None = None, actor_user_id: int | None = None,
) -> list[AlertRule]:
    """Add ``user_id`` to the recipients of the rule for (item, site, threshold), creating
    it. ``item_id`` None watches every item. ``threshold`` None joins the existing rules for
    that item and site, or creates one at DEFAULT_THRESHOLD. Subscribing someone else
    needs alert.manage; oneself, stock.view. Returns the rules subscribed to."""
    services.require_open(session, enterprise_id, MODULE)
    user = _user(session, enterprise_id, user_id)
    actor = user if actor_user_id in (None, user_id) else _user(session, enterprise_id, actor_user_id)
    rbac.require(session, actor, "stock.view" if actor is user else "alert.manage")
    _check(session, enterprise_id, item_id, site_id, threshold)
    statement = _matching_rules(session, enterprise_id, item_id, site_id)
    if threshold is not None:
        statement = statement.where(AlertRule.threshold == threshold)
    rules = list(session.scalars(statement.order_by(AlertRule.id)))
    if not rules:
        rules = [AlertRule(enterprise_id=enterprise_id, item_id=item_id, site_id=site_id,
                           threshold=threshold or DEFAULT_THRESHOLD)]
        session.add(rules[0])
        session.flush()
    for rule in rules:
        have = session.scalar(
            select(AlertRecipient.id).where(AlertRecipient.rule_id == rule.id, AlertRecipient.user_id == user.id)
        )
        if have is None:
            session.add(AlertRecipient(rule_id=rule.id, user_id=user.id))
            audit.record(session, enterprise_id, actor.id, "alert.subscribe", "alert_rule", rule.id, None,
                         {"user_id": user.id, "item_id": item_id, "site_id": site_id, "threshold": rule.threshold})
    session.flush()
    return rules


def unsubscribe(
    session: Session, enterprise_id: int, user_id: int, item_id: int | None = None,
    *, site_id: int | None = None, actor_user_id: int | None = None,
) -> int:
    """Take the user off every rule for (item, site); rules left without recipients go.
    Returns how many subscriptions ended."""
    services.require_open(session, enterprise_id, MODULE)
    user = _user(session, enterprise_id, user_id)
    actor = user if actor_user_id in (None, user_id) else _user(session, enterprise_id, actor_user_id)
    if actor is not user:
        rbac.require(session, actor, "alert.manage")
    matching = _matching_rules(session, enterprise_id, item_id, site_id).with_only_columns(AlertRule.id)
    rule_ids = list(session.scalars(matching))
    if not rule_ids:
        return 0
    ended = session.execute(
        delete(AlertRecipient).where(AlertRecipient.rule_id.in_(rule_ids), AlertRecipient.user_id == user.id)
    ).rowcount
    still_used = select(AlertRecipient.rule_id)
    orphans = list(session.scalars(
        select(AlertRule.id).where(AlertRule.id.in_(rule_ids), AlertRule.id.not_in(still_used))
    ))
    if orphans:
        fired = select(AlertFiring.rule_id)
        session.execute(delete(AlertRule).where(AlertRule.id.in_(orphans), AlertRule.id.not_in(fired)))
    if ended:
        audit.record(session, enterprise_id, actor.id, "alert.unsubscribe", "user", user.id,
                     {"item_id": item_id, "site_id": site_id}, None)
    return ended


def subscriptions(session: Session, enterprise_id: int, user_id: int) -> list[AlertRule]:
    """The rules this user of this enterprise receives."""
    return list(session.scalars(
        select(AlertRule).join(AlertRecipient, AlertRecipient.rule_id == AlertRule.id)
        .where(AlertRule.enterprise_id == enterprise_id, AlertRecipient.user_id == user_id)
        .order_by(AlertRule.id)
    ))


def firings(session: Session, enterprise_id: int) -> list[AlertFiring]:
    return list(session.scalars(
        select(AlertFiring).where(AlertFiring.enterprise_id == enterprise_id).order_by(AlertFiring.id)
    ))


def _texts(item: Item, site: Site, after: int, threshold: int) -> tuple[str, str]:
    zh = f"库存预警:{site.name}的{item.name}({item.sku})剩{after}件,低于{threshold}。"
    en = (f"Low stock: {item.display_name('en')} ({item.sku}) at {site.display_name('en')}: "
          f"{after} left, below {threshold}.")
    return zh, en


def on_stock_changed(
    session: Session, event: events.StockChanged, now: Callable[[], datetime] = notifications.utcnow
) -> list[AlertFiring]:
    """Fire every rule whose threshold this change crossed downwards (see module docstring)."""
    if not event.before > event.after:
        return []
    if not services.is_open(session, event.enterprise_id, MODULE):
        return []
    rules = list(session.scalars(
        select(AlertRule).where(
            AlertRule.enterprise_id == event.enterprise_id,
            or_(AlertRule.item_id.is_(None), AlertRule.item_id == event.item_id),
            or_(AlertRule.site_id.is_(None), AlertRule.site_id == event.site_id),
            AlertRule.threshold <= event.before, AlertRule.threshold > event.after,
        ).order_by(AlertRule.id)
    ))
    if not rules:
        return []
    item = session.get(Item, event.item_id)
    site = session.get(Site, event.site_id)
    fired = []
    for rule in rules:
        firing = AlertFiring(
            enterprise_id=event.enterprise_id, rule_id=rule.id, item_id=event.item_id, site_id=event.site_id,
            before=event.before, after=event.after, movement_id=event.movement_id, created_at=now(),
        )
        session.add(firing)
        session.flush()
        fired.append(firing)
        zh, en = _texts(item, site, event.after, rule.threshold)
        recipients = session.scalars(
            select(User).join(AlertRecipient, AlertRecipient.user_id == User.id)
            .where(AlertRecipient.rule_id == rule.id, User.enterprise_id == event.enterprise_id,
                   User.active.is_(True), User.msisdn.is_not(None))
            .order_by(User.id)
        )
        for user in recipients:
            notifications.notify(session, events.Notification(
                enterprise_id=event.enterprise_id, msisdn=user.msisdn, text_zh=zh, text_en=en,
                user_id=user.id, urgent=False, key=f"alert:{firing.id}:{user.id}",
            ), now=now)
    return fired


def count_rules(session: Session, enterprise_id: int) -> int:
    return session.scalar(select(func.count()).select_from(AlertRule).where(AlertRule.enterprise_id == enterprise_id))


events.subscribe(events.StockChanged, on_stock_changed)
