"""EsmeProtocol over a StringTransport: framing, decoding and the session together."""
from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twisted.internet.task import Clock

from gateway.smpp.framing import split_frames
from gateway.smpp.pdu import BindResp, CommandId, Pdu, Sm, Status, decode, encode
from gateway.smpp.protocol import BindFailed, EsmeProtocol
from gateway.smpp.session import SessionSettings, State
from tests.smpp.helpers import FakeSmscEnd, NoDelayTransport


class Events:
    def __init__(self):
        self.delivers = []
        self.lost = []
        self.freed = 0

    def slot_freed(self):
        self.freed += 1

    def deliver_received(self, sm, reply):
        self.delivers.append((sm, reply))

    def protocol_lost(self, protocol):
        self.lost.append(protocol)


def connect(**overrides):
    events = Events()
    proto = EsmeProtocol(events, Clock(), SessionSettings(**overrides))
    transport = NoDelayTransport()
    proto.makeConnection(transport)
    return proto, FakeSmscEnd(proto, transport), events


def test_connection_made_turns_nagle_off_and_sends_the_bind():
    proto, smsc, _ = connect()
    assert smsc.transport.no_delay is True
    (bind,) = smsc.received()
    assert bind.command_id is CommandId.BIND_TRANSCEIVER


def test_bind_resp_fed_one_byte_at_a_time_binds():
    proto, smsc, _ = connect()
    bound = []
    proto.when_bound().addCallback(bound.append)
    (bind,) = smsc.received()
    data = encode(bind.response(body=BindResp("SMSC")))
    for i in range(len(data)):
        assert bound == []
        proto.dataReceived(data[i:i + 1])
    assert bound == [proto] and proto.session.state is State.BOUND


def test_refused_bind_fails_when_bound_and_drops_the_connection():
    proto, smsc, _ = connect()
    failures = []
    proto.when_bound().addErrback(failures.append)
    (bind,) = smsc.received()
    smsc.send(Pdu(CommandId.BIND_TRANSCEIVER_RESP, bind.sequence, Status.ESME_RINVPASWD))
    assert failures[0].check(BindFailed)
    assert failures[0].value.status == Status.ESME_RINVPASWD
    assert smsc.transport.disconnecting


def test_two_pdus_in_one_segment_are_both_handled():
    proto, smsc, events = connect()
    smsc.accept_bind()
    smsc.send(Pdu(CommandId.ENQUIRE_LINK, 5), Pdu(CommandId.DELIVER_SM, 6, 0, Sm()))
    assert [p.command_id for p in smsc.received()] == [CommandId.ENQUIRE_LINK_RESP]
    assert len(events.delivers) == 1


def test_corrupt_length_gets_generic_nack_and_the_connection_dropped():
    proto, smsc, _ = connect()
    smsc.accept_bind()
    proto.dataReceived(struct.pack(">LLLL", 8, 0x15, 0, 33))
    assert smsc.received() == [Pdu(CommandId.GENERIC_NACK, 33, Status.ESME_RINVCMDLEN)]
    assert smsc.transport.disconnecting
    proto.dataReceived(encode(Pdu(CommandId.ENQUIRE_LINK, 1)))  # ignored once closing
    assert smsc.received() == []


def test_oversized_length_is_a_corrupt_stream():
    proto, smsc, _ = connect()
    smsc.accept_bind()
    proto.dataReceived(struct.pack(">L", 10_000_000))
    assert smsc.received()[0].status == Status.ESME_RINVCMDLEN
    assert smsc.transport.disconnecting


def test_malformed_deliver_sm_is_answered_and_the_link_carries_on():
    proto, smsc, events = connect()
    smsc.accept_bind()
    body = b"\0\0\0" + b"1" * 30  # source_addr without its NUL within 21 octets
    proto.dataReceived(struct.pack(">LLLL", 16 + len(body), CommandId.DELIVER_SM, 0, 9)
                       + body)
    (resp,) = smsc.received()
    assert (resp.command_id, resp.sequence, resp.status) == \
        (CommandId.DELIVER_SM_RESP, 9, Status.ESME_RINVSRCADR)
    assert not smsc.transport.disconnecting and events.delivers == []
    smsc.send(Pdu(CommandId.ENQUIRE_LINK, 10))
    assert smsc.received() == [Pdu(CommandId.ENQUIRE_LINK_RESP, 10)]


def test_connection_lost_tells_the_owner_and_fails_when_bound():
    proto, smsc, events = connect()
    failures = []
    proto.when_bound().addErrback(failures.append)
    proto.connectionLost(None)
    assert events.lost == [proto] and failures[0].check(BindFailed)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_random_bytes_end_in_answers_or_a_disconnect_never_an_exception(chunks):
    proto, smsc, _ = connect()
    smsc.accept_bind()
    for chunk in chunks:
        proto.dataReceived(chunk)
    frames, rest = split_frames(smsc.transport.value())
    for frame in frames:
        decode(frame)  # everything we wrote is a well-formed PDU
    assert rest == b""


COMMAND_IDS = st.one_of(st.sampled_from([int(c) for c in CommandId]),
                        st.integers(min_value=0, max_value=0xFFFFFFFF))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(COMMAND_IDS, st.integers(0, 0xFFFFFFFF),
                          st.integers(0, 0xFFFFFFFF), st.binary(max_size=120)),
                min_size=1, max_size=5))
def test_well_framed_pdus_with_random_ids_and_bodies_never_raise(pdus):
    proto, smsc, _ = connect()
    smsc.accept_bind()
    for cid, status, seq, body in pdus:
        proto.dataReceived(struct.pack(">LLLL", 16 + len(body), cid, status, seq) + body)
    frames, rest = split_frames(smsc.transport.value())
    assert rest == b""
    for frame in frames:
        decode(frame)
