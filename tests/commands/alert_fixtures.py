"""Readers for the alert commands' tests."""
from __future__ import annotations

from tests.commands.cmd_helpers import in_db, user


def subscriptions(sessionmaker, msisdn):
    """(threshold, every item?, at my site?) of a user's subscriptions."""
    from erpcore import alerts

    def run(s):
        who = user(s, msisdn)
        return [(r.threshold, r.item_id is None, r.site_id == who.site_id)
                for r in alerts.subscriptions(s, who.enterprise_id, who.id)]
    return in_db(sessionmaker, run)
