"""The read-ahead's Python stays linear in a batch's rows: the SKUs and site codes it reads
are each folded once (not once per query of the batch), and the answers are those a
lookup one by one gives."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from erpcore import memo
from erpcore.items import Item, find_item, remember_skus, remembered_item
from erpcore.sites import Site, remember_codes, remembered_code
from erpcore.tenants import Enterprise
from erpcore.users import InvalidMsisdn, normalize_msisdn

COUNT = 30


def demo_id(session) -> int:
    return session.scalars(select(Enterprise.id).where(Enterprise.code == "DEMO")).one()


def counting(monkeypatch) -> list[str]:
    """The texts erpcore.memo folds loosely from now on."""
    seen: list[str] = []
    original = memo.loose

    def loose(text: str) -> str:
        seen.append(text)
        return original(text)
    monkeypatch.setattr(memo, "loose", loose)
    return seen


def test_remember_skus_folds_each_row_and_query_once(session, monkeypatch):
    eid = demo_id(session)
    session.add_all([Item(enterprise_id=eid, sku=f"K{n}", name=f"K{n}", unit_price=Decimal("1"))
                     for n in range(COUNT)])
    session.flush()
    queries = [(eid, f"k{n}") for n in range(COUNT)]
    folded = counting(monkeypatch)
    remember_skus(session, queries)
    assert len(folded) <= 2 * COUNT
    for n in range(COUNT):
        kept = remembered_item(session, eid, f"K{n}")
        assert kept is not None and kept.id == find_item(session, eid, f"K{n}").id


def test_remember_codes_folds_each_row_and_query_once(session, monkeypatch):
    eid = demo_id(session)
    session.add_all([Site(enterprise_id=eid, code=f"S{n}", name=f"S{n}", kind="warehouse") for n in range(COUNT)])
    session.flush()
    folded = counting(monkeypatch)
    remember_codes(session, [(eid, f"s{n}") for n in range(COUNT)])
    assert len(folded) <= 2 * COUNT
    for n in range(COUNT):
        kept = remembered_code(session, eid, f"S{n}")
        assert kept is not None and kept.code == f"S{n}"


def test_a_remembered_msisdn_answers_and_refuses_as_before():
    for _ in range(2):
        assert normalize_msisdn("+86 138-0000-0001") == "13800000001"
        assert normalize_msisdn("008613800000001") == "13800000001"
        assert normalize_msisdn("4412345") == "4412345"
        with pytest.raises(InvalidMsisdn):
            normalize_msisdn("12ab")
        with pytest.raises(InvalidMsisdn):
            normalize_msisdn("1" * 21)
        with pytest.raises(InvalidMsisdn):
            normalize_msisdn(None)
