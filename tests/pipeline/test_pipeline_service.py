"""PipelineService end to end with a fake link, resume after a crash, real thread pool."""
from __future__ import annotations

from datetime import timedelta

import pytest_twisted
from twisted.internet.defer import Deferred

from erpcore import inbox, outbox
from erpcore.messaging_models import CommandLog, Inbox, Outbox
from gateway.messages import DeliveryReport, InboundSms
from gateway.pipeline.service import PipelineService, PipelineSettings
from gateway.text import split
from tests.pipeline.pipeline_fakes import FakeLink, ImmediatePool, InlineReactor, echo_handle


def mo(smsc_id, text="STOCK X100"):
    return InboundSms(link="smsc1", sender="13800000001", recipient="106571234501",
                      text=text, smsc_id=smsc_id)


def make_service(sessionmaker, clock, *links, **settings):
    service = PipelineService(
        sessionmaker, PipelineSettings(**settings), reactor=InlineReactor(), clock=clock,
        links=links, handle=echo_handle, split=split, pool=ImmediatePool(),
    )
    service.startService()
    return service


def test_an_mo_becomes_a_submitted_reply_and_its_receipt_marks_it_delivered(
    sessionmaker, clock, rows
):
    link = FakeLink()
    service = make_service(sessionmaker, clock, link)
    acked = []
    service.inbound_handler.handle_inbound(mo("m1")).addCallback(acked.append)
    assert acked == ["stored"]
    (sent,) = link.sent
    assert (sent.text, sent.recipient) == ("ok STOCK X100", "13800000001")
    link.accept("1F")
    service.inbound_handler.handle_receipt(DeliveryReport("smsc1", "31", "DELIVRD"))
    assert [r["state"] for r in rows(Outbox)] == ["delivered"]
    assert [r["state"] for r in rows(Inbox)] == ["done"] and len(rows(CommandLog)) == 1
    service.stopService()


def test_a_redelivered_mo_is_answered_once(sessionmaker, clock, rows):
    link = FakeLink()
    service = make_service(sessionmaker, clock, link)
    for _ in range(3):
        service.inbound_handler.handle_inbound(mo("same"))
    assert len(link.sent) == 1 and len(rows(CommandLog)) == 1


def test_a_fresh_service_resumes_what_a_dead_one_left(sessionmaker, clock, rows, now):
    with sessionmaker.begin() as session:
        inbox.store(session, [mo("left-new"), mo("left-processing")], now)
        inbox.claim(session, 1, now - timedelta(seconds=30), 60)  # dead worker's claim
    with sessionmaker.begin() as session:
        outbox.enqueue(session, [outbox.OutboxPart("1065", "1380", "unsent", "gsm7")], now)
        outbox.claim_due(session, now, 10, 60)  # claimed, never submitted: process died
    link = FakeLink()
    make_service(sessionmaker, clock, link, inbox_lease=60, outbox_lease=60)
    # the new MO is handled at once; the claimed one waits for its lease
    assert [r["state"] for r in rows(Inbox)] == ["processing", "done"]
    assert [m.text for m in link.sent] == ["ok STOCK X100"]
    link.accept_all()
    clock.advance(31)
    assert [r["state"] for r in rows(Inbox)] == ["done", "done"]
    link.accept_all()
    clock.advance(30)  # the dead process's "sending" row: lease over, resent
    assert sorted(m.text for m in link.sent) == ["ok STOCK X100", "ok STOCK X100", "unsent"]
    assert len(rows(CommandLog)) == 2


def test_stalled_long_mo_parts_are_answered_after_the_part_timeout(sessionmaker, clock,
                                                                   rows):
    from gateway.messages import ConcatInfo

    link = FakeLink()
    service = make_service(sessionmaker, clock, link, part_timeout=300)
    part = InboundSms(link="smsc1", sender="1380", recipient="1065", text="STOCK ",
                      smsc_id="p1", concat=ConcatInfo(3, 2, 1))
    service.inbound_handler.handle_inbound(part)
    clock.advance(300)
    assert link.sent == []
    clock.advance(2)
    assert [m.text for m in link.sent] == ["ok STOCK "]
    assert rows(Inbox)[0]["incomplete"] is True


class SignallingLink(FakeLink):
    def __init__(self):
        super().__init__()
        self.submitted = Deferred()

    def submit(self, msg):
        d = super().submit(msg)
        if not self.submitted.called:
            self.submitted.callback(msg)
        return d


@pytest_twisted.inlineCallbacks
def test_with_a_real_thread_pool_and_reactor(sessionmaker, rows):
    from twisted.internet import reactor

    link = SignallingLink()
    service = PipelineService(sessionmaker, PipelineSettings(), reactor=reactor,
                              links=[link], handle=echo_handle, split=split)
    service.startService()
    try:
        result = yield service.inbound_handler.handle_inbound(mo("threaded"))
        assert result == "stored" and len(rows(Inbox)) == 1
        sent = yield link.submitted
        assert sent.text == "ok STOCK X100"
    finally:
        yield service.stopService()


def test_in_flight_sets_dispatcher_batches_and_inbox_writes_side_by_side():
    import pytest

    from gateway import config as gateway_config
    from gateway.service import pipeline_settings

    def settings(text):
        return pipeline_settings(gateway_config.parse(text + "[link:s]\nendpoint = tcp:host=h:port=1\n"))

    mysql = "[gateway]\ndatabase = mysql+pymysql://u@h/db\n"
    assert settings(mysql).in_flight == 1  # the default: one of each
    assert settings(mysql + "[inbox]\nin_flight = 2\n").in_flight == 2
    assert settings("[inbox]\nin_flight = 2\n").in_flight == 1  # SQLite: one db thread
    with pytest.raises(gateway_config.ConfigError, match="in_flight"):
        settings(mysql + "[inbox]\nin_flight = 0\n")
    service = PipelineService(None, PipelineSettings(db_threads=4, in_flight=2), reactor=InlineReactor(),
                              handle=echo_handle, split=split, pool=ImmediatePool())
    assert (service.dispatcher._passes, service.writer._concurrency) == (2, 2)
