"""What a batch of commands will read, read for the whole batch at once.

The dispatcher runs up to 200 MOs in one transaction. Each ORDER reads its item, the
sender's site, the approval rules and who approves; each APPROVE the order, its lines,
who already decided on it, its requester, site and item; each STOCK its item, site and
stock level. ``read_ahead`` parses the batch's texts with the command registry and makes
those reads once per kind of row for the batch, leaving the rows in erpcore's memos
(`erpcore.memo`), where the commands' own lookups find them. Only what is plain to
predict is read ahead (an item named by its exact SKU, the sender's own site, an order
by its number); anything else is read by the command as before. ``handle`` answers the
same with or without it: skipping it only costs the queries.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from commands import approve, order, reject, status, stock
from commands.formatting import number_arg
from commands.registry import Registry
from erpcore import document_memo
from erpcore.items import remember_items, remember_skus, remembered_item
from erpcore.sites import remember_codes, remember_sites, remembered_code
from erpcore.stock import remember_levels
from erpcore.tenants import Enterprise
from erpcore.users import User, remember_users

_NAMES_AN_ITEM = {order.COMMAND.name, stock.COMMAND.name}
_NAMES_AN_ORDER = {approve.COMMAND.name, reject.COMMAND.name, status.COMMAND.name}
_DECIDES = {order.COMMAND.name, approve.COMMAND.name}  # read the rules and who approves next
# Where each command that names an item takes an optional site.
_SITE_ARG = {order.COMMAND.name: 2, stock.COMMAND.name: 1}


@dataclass
class _Plan:
    """The rows a batch's commands will look up, by kind."""

    items: set[tuple[int, str]] = field(default_factory=set)  # (enterprise, item query)
    sites: set[int] = field(default_factory=set)
    codes: set[tuple[int, str]] = field(default_factory=set)  # (enterprise, site query)
    orders: set[tuple[int, str]] = field(default_factory=set)  # (enterprise, number)
    deciding: set[int] = field(default_factory=set)  # enterprises whose rules are read
    # (enterprise, item query, the sender's site id or the site query)
    levels: set[tuple[int, str, int | str]] = field(default_factory=set)

    def add(self, registry: Registry, enterprise: Enterprise, user: User, text: str) -> None:
        parsed = registry.parse(text or "")
        command = parsed.command
        if command is None or not command.accepts(parsed.args):
            return
        if command.name in _DECIDES:
            self.deciding.add(enterprise.id)
        if command.name in _NAMES_AN_ITEM:
            self.items.add((enterprise.id, parsed.args[0]))
            at = _SITE_ARG[command.name]
            site = parsed.args[at] if len(parsed.args) > at else user.site_id
            if isinstance(site, str):
                self.codes.add((enterprise.id, site))
            elif site is not None:
                self.sites.add(site)
            if command.name == stock.COMMAND.name and site is not None:
                self.levels.add((enterprise.id, parsed.args[0], site))
        elif command.name in _NAMES_AN_ORDER:
            number = number_arg(parsed.args[0])
            if number is not None:
                self.orders.add((enterprise.id, number))


def read_ahead(session: Session, senders: Iterable[tuple[Enterprise, User, str]],
               registry: Registry | None = None) -> None:
    """Read what the commands of these (enterprise, sender, MO text) triples will look
    up, a query per kind of row, into erpcore's memos. Changes nothing."""
    if registry is None:
        from commands import REGISTRY as registry
    plan = _Plan()
    for enterprise, user, text in senders:
        if enterprise.active and user.active:
            plan.add(registry, enterprise, user, text)
    remember_skus(session, plan.items)
    orders = document_memo.remember_orders(session, plan.orders)
    document_memo.remember_decisions(session, [o.id for o in orders])
    remember_users(session, {o.requester_user_id for o in orders})
    remember_items(session, {line.item_id for o in orders for line in o.lines})
    remember_sites(session, plan.sites | {o.to_site_id for o in orders} | {o.from_site_id for o in orders})
    remember_codes(session, plan.codes)
    document_memo.remember_rules(session, plan.deciding)
    document_memo.remember_approvers(session, plan.deciding, document_memo.rule_roles(session, plan.deciding))
    pairs = set()
    for enterprise_id, query, site in plan.levels:
        item = remembered_item(session, enterprise_id, query)
        if isinstance(site, str):
            named = remembered_code(session, enterprise_id, site.strip())
            site = named.id if named is not None else None
        if item is not None and site is not None:
            pairs.add((item.id, site))
    remember_levels(session, pairs)
