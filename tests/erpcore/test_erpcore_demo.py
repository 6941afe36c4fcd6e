"""The demo enterprise seeds once and re-seeding changes nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from erpcore.db import session_scope
from erpcore.demo import DEMO_SERVICE_CODE, seed_demo
from erpcore.items import Item
from erpcore.sites import Site
from erpcore.stock import StockLevel, stock_of
from erpcore.tenants import Enterprise
from erpcore.users import User, find_by_msisdn

MODELS = (Enterprise, Site, Item, StockLevel, User)


def _counts(session):
    return {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in MODELS}


def test_seed_demo_is_idempotent_and_keeps_moved_stock(sessionmaker):
    with session_scope(sessionmaker) as session:
        demo = seed_demo(session)
    with session_scope(sessionmaker) as session:
        before = _counts(session)
        level = session.scalars(select(StockLevel)).first()
        level.quantity = 4321
    with session_scope(sessionmaker) as session:
        assert seed_demo(session).id == demo.id
    with session_scope(sessionmaker) as session:
        assert _counts(session) == before
        assert session.get(StockLevel, level.id).quantity == 4321


def test_demo_users_languages_and_sites(sessionmaker):
    with session_scope(sessionmaker) as session:
        demo = seed_demo(session)
        expected = {"13800000001": ("zh", "HALL1"), "13800000002": ("en", None), "13800000003": ("zh", "WH1")}
        for msisdn, (lang, site) in expected.items():
            user = find_by_msisdn(session, demo.id, msisdn)
            assert (user.lang, user.site.code if user.site else None) == (lang, site)
        assert demo.extension == "01" and demo.name == "演示企业" and demo.name_en == "Demo Trading"
        x100 = stock_of(session, demo.id, "86123456")
        assert x100.name_en == "Huawei Mate X100"
    assert DEMO_SERVICE_CODE == "1065712345"
