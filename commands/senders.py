"""Who sends a batch of MOs: the enterprises and users behind many MOs, looked up at once.

The gateway's dispatcher runs a batch of MOs in one transaction, and ``handle`` looks up
each MO's enterprise and sender. ``prepare`` makes those lookups for the whole batch
first — one query for the batch's enterprises, one for their service subscriptions, one
for its senders and one for their extra roles, instead of one of each per MO (roles: per
permission checked; subscriptions: per "is the module open" check) — and leaves
the rows where ``handle``'s own lookups find them (erpcore's transaction memos).
``handle`` answers the same either way: skipping ``prepare`` only costs the queries.
Then `commands.prefetch` reads ahead what the batch's commands will read (their items,
orders, sites, rules ...), a query per kind of row for the whole batch.
"""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from commands.prefetch import read_ahead
from erpcore.rbac import remember_roles
from erpcore.services import remember_subscriptions
from erpcore.tenants import find_by_extension, remember_extensions
from erpcore.users import find_by_msisdn, remember_senders


def extension_of(recipient: str | None, service_code: str) -> str | None:
    """The enterprise extension an MO to ``recipient`` was sent to (None: not ours)."""
    recipient = (recipient or "").strip()
    if not service_code or not recipient.startswith(service_code):
        return None
    return recipient[len(service_code):]


def prepare(session: Session, messages: Iterable[tuple[object, str]], read_ahead_commands: bool = True) -> int:
    """Look up the enterprises, their subscriptions, senders and senders' extra roles of
    (sms, service code) pairs in four queries, then (``read_ahead_commands``) what their
    commands will read; returns how many senders were found. Changes nothing."""
    wanted = []
    for sms, service_code in messages:
        extension = extension_of(getattr(sms, "recipient", None), service_code)
        if extension:
            wanted.append((extension, getattr(sms, "sender", None) or "", getattr(sms, "text", None) or ""))
    remember_extensions(session, {extension for extension, _, _ in wanted})
    senders = set()
    enterprise_ids = set()
    for extension, sender, _text in wanted:
        enterprise = find_by_extension(session, extension)  # remembered: no query
        if enterprise is not None:
            enterprise_ids.add(enterprise.id)
            if sender:
                senders.add((enterprise.id, sender))
    remember_subscriptions(session, enterprise_ids)
    found = remember_senders(session, senders)
    users = {(eid, sender): find_by_msisdn(session, eid, sender) for eid, sender in senders}  # remembered
    remember_roles(session, [user for user in users.values() if user is not None])
    if read_ahead_commands:
        read_ahead(session, _known(session, wanted, users))
    return found


def _known(session: Session, wanted, users) -> list:
    """(enterprise, user, text) of the MOs whose enterprise and sender were found."""
    known = []
    for extension, sender, text in wanted:
        enterprise = find_by_extension(session, extension)  # remembered: no query
        user = users.get((enterprise.id, sender)) if enterprise is not None else None
        if user is not None:
            known.append((enterprise, user, text))
    return known
