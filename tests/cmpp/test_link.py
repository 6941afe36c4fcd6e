"""CmppLink: the SmppLink contract over CMPP. Connections are made by hand on a
MemoryReactorClock and wired to the simulated ISMG through StringTransports."""
from __future__ import annotations

from twisted.internet.defer import Deferred, fail, succeed
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.testing import MemoryReactorClock, StringTransport

from gateway.cmpp.link import CmppLink, CmppLinkSettings
from gateway.cmpp.pdu import CommandId, ConnectResp, Pdu, Version, encode
from gateway.messages import ConcatInfo, DeliveryReport, InboundSms, OutboundSms
from gateway.smpp.session import LinkDown, SubmitRejected
from sim.ismg import Ismg, IsmgSettings
from sim.ismg_session import IsmgFactory

MSG = OutboundSms(outbox_id=1, sender="106571234501", recipient="13800000001", text="OK 250",
                  coding="gsm7")


class Handler:
    def __init__(self, auto=True):
        self.auto = auto
        self.inbound: list[tuple[InboundSms, Deferred]] = []
        self.receipts: list[tuple[DeliveryReport, Deferred]] = []

    def handle_inbound(self, msg):
        d = succeed(None) if self.auto else Deferred()
        self.inbound.append((msg, d))
        return d

    def handle_receipt(self, report):
        d = succeed(None) if self.auto else Deferred()
        self.receipts.append((report, d))
        return d


class Connection:
    """One accepted connection: the link's protocol <-> an ISMG protocol."""

    def __init__(self, sp, ismg):
        self.sp = sp
        self.ismg_side = IsmgFactory(ismg).buildProtocol(None)
        self.sp_transport, self.ismg_transport = StringTransport(), StringTransport()
        self.ismg_side.makeConnection(self.ismg_transport)
        self.sp.makeConnection(self.sp_transport)
        self.closed = False

    def flush(self):
        for _ in range(100):
            a, b = self.sp_transport.value(), self.ismg_transport.value()
            if not (a or b) or self.closed:
                break
            self.sp_transport.clear()
            self.ismg_transport.clear()
            if a:
                self.ismg_side.dataReceived(a)
            if b:
                self.sp.dataReceived(b)
        if not self.closed and (self.sp_transport.disconnecting or self.ismg_transport.disconnecting):
            self.closed = True
            self.sp.connectionLost(None)
            self.ismg_side.connectionLost(None)


class Rig:
    def __init__(self, version=Version.V30, handler=None, ismg_secret="s3cret", **settings):
        self.reactor = MemoryReactorClock()
        self.ismg = Ismg(self.reactor, IsmgSettings(seed=5, shared_secret=ismg_secret,
                                                    receipt_delay=1.0))
        self.handler = handler or Handler()
        settings.setdefault("shared_secret", "s3cret")
        self.link = CmppLink("ismg1", TCP4ClientEndpoint(self.reactor, "127.0.0.1", 7890),
                             CmppLinkSettings(version=version, sp_id="901234", **settings),
                             self.handler, clock=self.reactor, jitter=lambda: 0)
        self.link.startService()

    def attempts(self):
        return len(self.reactor.tcpClients)

    def connect(self) -> Connection:
        factory = self.reactor.tcpClients[-1][2]
        conn = Connection(factory.buildProtocol(None), self.ismg)
        conn.flush()
        return conn


def results_of(d):
    out = []
    d.addBoth(out.append)
    return out


def test_a_submit_fires_with_the_decimal_msg_id_and_its_report_carries_the_same_id():
    rig = Rig()
    conn = rig.connect()
    assert rig.link.bound and rig.link.capacity() == 16
    out = results_of(rig.link.submit(MSG))
    conn.flush()
    [msg_id] = out
    assert msg_id.isdigit()
    assert rig.ismg.phonebook.get("13800000001").inbox[0].text == "OK 250"
    rig.reactor.advance(1.0)
    conn.flush()
    [(report, _)] = rig.handler.receipts
    assert report == DeliveryReport(link="ismg1", smsc_id=msg_id, state="DELIVRD")
    assert rig.ismg.counters["receipts_acked"] == 1


def test_a_deliver_is_acknowledged_only_once_the_handler_stored_it():
    rig = Rig(handler=Handler(auto=False))
    conn = rig.connect()
    mo = rig.ismg.queue_mo("13800000002", "106571234501", "stock x100")
    conn.flush()
    [(msg, d)] = rig.handler.inbound
    assert (msg.sender, msg.recipient, msg.text, msg.link) == \
        ("13800000002", "106571234501", "stock x100", "ismg1")
    assert msg.smsc_id == mo.mo_id and mo.acked_at is None
    d.callback(None)
    conn.flush()
    assert mo.acked_at is not None


def test_a_long_chinese_mo_arrives_as_parts_with_their_concat_info():
    rig = Rig()
    conn = rig.connect()
    rig.ismg.queue_mo("13800000002", None, "库存" * 50)
    conn.flush()
    parts = [m for m, _ in rig.handler.inbound]
    assert [p.concat.number for p in parts] == [1, 2]
    assert {p.concat.total for p in parts} == {2}
    assert "".join(p.text for p in parts) == "库存" * 50


def test_a_handler_failure_makes_the_ismg_redeliver():
    handler = Handler(auto=False)
    rig = Rig(handler=handler)
    conn = rig.connect()
    rig.ismg.queue_mo("13800000002", None, "HELP")
    conn.flush()
    handler.inbound[0][1].errback(RuntimeError("database down"))
    conn.flush()
    rig.reactor.advance(rig.ismg.settings.retry_delay)
    conn.flush()
    assert len(handler.inbound) == 2 and handler.inbound[1][0].text == "HELP"


def test_a_refused_connect_is_retried_with_backoff():
    rig = Rig(ismg_secret="other")
    conn = rig.connect()
    assert conn.closed and not rig.link.bound
    assert rig.attempts() == 1
    rig.reactor.advance(1.5)  # backoffPolicy: initial 1.0 x 1.5 for the first retry
    assert rig.attempts() == 2


def test_a_silent_ismg_is_dropped_and_the_link_reconnects():
    rig = Rig(active_test_interval=180, response_timeout=60, retries=3)
    conn = rig.connect()
    assert rig.link.bound
    conn.ismg_side.dataReceived = lambda data: None  # the ISMG goes deaf and mute
    rig.reactor.advance(180)
    for _ in range(3):
        rig.reactor.advance(60)
        conn.flush()
    assert conn.closed and not rig.link.bound
    rig.reactor.advance(1.5)
    assert rig.attempts() == 2
    rig.connect()
    assert rig.link.bound


def test_a_terminate_from_the_ismg_ends_the_connection_and_the_link_reconnects():
    rig = Rig()
    conn = rig.connect()
    rig.ismg.sessions[0].terminate()
    conn.flush()
    assert conn.closed and not rig.link.bound
    out = results_of(rig.link.submit(MSG))
    assert out[0].check(LinkDown)
    rig.reactor.advance(1.5)
    rig.connect()
    assert rig.link.bound


def test_stopping_the_link_sends_terminate():
    rig = Rig()
    conn = rig.connect()
    done = results_of(rig.link.stopService())
    conn.flush()
    assert conn.closed and rig.ismg.sessions == []
    assert done == [None]


def test_a_sender_too_long_for_src_id_is_rejected_permanently():
    rig = Rig()
    conn = rig.connect()
    bad = OutboundSms(outbox_id=3, sender="1" * 22, recipient="138", text="x", coding="gsm7")
    out = results_of(rig.link.submit(bad))
    conn.flush()
    assert isinstance(out[0].value, SubmitRejected) and not out[0].value.transient


def test_cmpp_2_0_link_round_trip_with_a_report():
    rig = Rig(version=Version.V20)
    conn = rig.connect()
    assert rig.ismg.sessions[0].version == Version.V20
    out = results_of(rig.link.submit(MSG))
    conn.flush()
    rig.reactor.advance(1.0)
    conn.flush()
    assert rig.handler.receipts[0][0].smsc_id == out[0]
