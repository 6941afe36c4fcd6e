"""The load runner reads the real command layer's texts: an ORDER reply that waits, the
approval request a manager gets, the decision its requester gets (zh and en), and the
load layout it assumes is the one `merp db seed-demo --load-team-size` seeds."""
from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from commands import handle
from erpcore import db, demo
from erpcore.notifications import StoredNotification
from erpcore.tenants import Enterprise
from erpcore.users import User
from sim.load_mix import Layout, approval_requested, is_notice, order_waiting

CODE = demo.DEMO_SERVICE_CODE


def ask(session, layout, index, text):
    sms = SimpleNamespace(sender=layout.msisdn(index), recipient=layout.recipient(index), text=text)
    return handle(session, sms, CODE).reply


def test_the_runner_recognises_the_real_order_request_approval_and_decision_texts(db_url):
    layout = Layout(8, team_size=4, service_code=CODE)
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            assert demo.seed_load_users(session, 8, team_size=4) == 8
            session.flush()
            for clerk in (5, 6):  # en (odd) and zh (even) clerks of team 1; its manager is 4
                ordered = ask(session, layout, clerk, "ORDER X100 1")
                number = order_waiting(ordered)
                assert number is not None, ordered
                assert not is_notice(ordered)
                manager = layout.msisdn(4)
                request = session.scalars(select(StoredNotification).where(
                    StoredNotification.msisdn == manager, StoredNotification.key.like(f"approval:%"))
                    .order_by(StoredNotification.id.desc())).first()
                assert approval_requested(request.text_en) == approval_requested(request.text_zh) == number
                approved = ask(session, layout, 4, f"Y {number}")
                assert "approved" in approved or "同意" in approved, approved
                assert not is_notice(approved) and approval_requested(approved) is None
                assert order_waiting(approved) is None
                decision = session.scalars(select(StoredNotification).where(
                    StoredNotification.msisdn == layout.msisdn(clerk),
                    StoredNotification.key.like("decided:%"))).one()
                assert is_notice(decision.text_en) and is_notice(decision.text_zh)
                assert approval_requested(decision.text_en) is None
            stock = ask(session, layout, 5, "STOCK X100")
            assert not is_notice(stock) and order_waiting(stock) is None and "X100" in stock
    finally:
        engine.dispose()


def test_the_seeded_teams_match_the_runners_layout(db_url):
    layout = Layout(10, team_size=4, service_code=CODE)
    engine = db.make_engine(db_url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            assert demo.seed_load_users(session, 10, team_size=4) == 10
            assert demo.seed_load_users(session, 10, team_size=4) == 0, "seeding again adds nobody"
            session.flush()
            for index in range(10):
                user = session.scalars(select(User).where(User.msisdn == layout.msisdn(index))).one()
                enterprise = session.get(Enterprise, user.enterprise_id)
                assert CODE + enterprise.extension == layout.recipient(index)
                assert (user.role == "manager") == layout.is_manager(index)
                assert (user.site_id is None) == layout.is_manager(index)
            managers = session.scalars(select(User.msisdn).where(User.role == "manager",
                                                                 User.username.like("load%"))).all()
            assert sorted(managers) == [layout.msisdn(i) for i in (0, 4, 8)]
    finally:
        engine.dispose()
