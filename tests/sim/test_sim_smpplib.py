"""An independent SMPP client, smpplib's own blocking Client, talks to the simulator over
loopback: so a codec bug cannot cancel itself out between our gateway and our simulator."""
from __future__ import annotations

import pytest
import pytest_twisted
import smpplib.client
import smpplib.consts
import smpplib.exceptions
from twisted.internet import defer, threads

from sim.cli import build_smsc_service, smsc_options


@pytest.fixture
def live():
    from twisted.internet import reactor

    options = smsc_options(listen="tcp:0:interface=127.0.0.1", control="", seed=11, receipt_delay=0.0)
    service = build_smsc_service(options, reactor)
    service.startService()
    yield service
    pytest_twisted.blockon(defer.maybeDeferred(service.stopService))


def smpplib_session(port, mo_expected):
    """In a thread: bind, submit one message, read until the resp, the receipt and the MO."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    seen = {"resp": [], "deliver": []}
    client.set_message_sent_handler(lambda pdu, **kw: seen["resp"].append(pdu))
    client.set_message_received_handler(lambda pdu, **kw: seen["deliver"].append(pdu))
    client.connect()
    try:
        bind = client.bind_transceiver(system_id="merp", password="secret")
        client.send_message(
            source_addr="106571234501", destination_addr="13800000009",
            short_message=b"hello from smpplib", registered_delivery=1,
        )
        while not seen["resp"] or len(seen["deliver"]) < 1 + mo_expected:
            client.read_once()
        client.unbind()
    finally:
        client.disconnect()
    return bind, seen


def wrong_password(port):
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    client.connect()
    try:
        client.bind_transceiver(system_id="merp", password="nope")
    except smpplib.exceptions.PDUError as exc:
        return exc.args[1]
    finally:
        client.disconnect()
    return None


@pytest_twisted.inlineCallbacks
def test_smpplib_binds_submits_and_gets_the_resp_a_receipt_and_an_mo(live):
    yield live.when_listening()
    mo = live.smsc.queue_mo("13800000009", "106571234501", "STOCK X100")  # waits for the bind
    bind, seen = yield threads.deferToThread(smpplib_session, live.smpp_port(), 1)
    assert bind.status == smpplib.consts.SMPP_ESME_ROK
    (resp,) = seen["resp"]
    message_id = resp.message_id.decode()
    assert resp.status == 0 and message_id
    receipts = [p for p in seen["deliver"] if p.esm_class & 0x04]
    mos = [p for p in seen["deliver"] if not p.esm_class & 0x04]
    assert receipts[0].receipted_message_id.rstrip(b"\0").decode() == message_id
    assert receipts[0].message_state == 2  # DELIVERED
    assert b"stat:DELIVRD" in receipts[0].short_message
    assert mos[0].short_message == b"STOCK X100"
    assert mos[0].source_addr == b"13800000009"
    assert mo.acked_at is not None  # smpplib answered deliver_sm_resp ESME_ROK
    assert live.smsc.phonebook.get("13800000009").inbox[0].text == "hello from smpplib"


@pytest_twisted.inlineCallbacks
def test_smpplib_bind_with_a_wrong_password_is_refused(live):
    yield live.when_listening()
    status = yield threads.deferToThread(wrong_password, live.smpp_port())
    assert status == smpplib.consts.SMPP_ESME_RINVPASWD


class Crash(Exception):
    """Stands for the gateway process dying in the middle of a deliver_sm."""


def receive_mos(port, crash_after=None):
    """Bind with smpplib and take MOs (acking each) until the SMSC hangs up, or crash
    (close the socket without acking) when `crash_after` MOs have been taken."""
    client = smpplib.client.Client("127.0.0.1", port, timeout=10, allow_unknown_opt_params=True)
    texts = []

    def got(pdu, **kw):
        if len(texts) == crash_after:
            raise Crash()
        texts.append(pdu.short_message.decode())

    client.set_message_received_handler(got)
    client.connect()
    try:
        client.bind_transceiver(system_id="merp", password="secret")
        while True:
            client.read_once()
    except (Crash, smpplib.exceptions.ConnectionError):
        pass
    finally:
        client.disconnect()  # no unbind: the socket just closes
    return texts


@pytest_twisted.inlineCallbacks
def test_mos_in_flight_when_the_esme_dies_are_all_delivered_to_the_next_bind(live):
    """The first ESME dies with MOs in its window (and, closing with unread data, its
    last acks may be lost on the wire): every MO still reaches the next bind and is
    acknowledged; some twice, which the gateway deduplicates by the MO id."""
    yield live.when_listening()
    sent = [f"STOCK X{n}" for n in range(25)]
    for text in sent:
        live.smsc.queue_mo("13800000009", None, text)
    first = yield threads.deferToThread(receive_mos, live.smpp_port(), crash_after=7)
    assert len(first) == 7

    def all_acked(mo):
        if live.smsc.counters["mos_acked"] == len(sent):
            for session in list(live.smsc.sessions):
                session.disconnect()  # ends the second client's read loop

    live.smsc.mo_listeners.append(all_acked)
    second = yield threads.deferToThread(receive_mos, live.smpp_port())
    assert set(first) | set(second) == set(sent)
    assert live.smsc.status()["mos_unacked"] == 0 and live.smsc.status()["queued"] == 0
