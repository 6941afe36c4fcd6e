"""deliver_sm/submit_sm bodies are read and written in one pass (`_decode_sm_fast`,
`_encode_sm_fast`); whatever that pass does not take as it is goes through the checked
reader or writer. Both paths must give the same result or the same PduError: for any
bytes read (whole bodies, cut at every offset, bytes changed) and any Sm written."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.smpp import pdu
from gateway.smpp.pdu import CommandId, Pdu, PduError, Sm, Tag, Tlv, decode, encode

BODY = Sm(source_addr_ton=1, source_addr_npi=1, source_addr="13800000001",
          destination_addr="106571234501", esm_class=4, data_coding=8,
          short_message="库存 X100".encode("utf-16-be"),
          tlvs=(Tlv(Tag.RECEIPTED_MESSAGE_ID, b"1a2b\0"), Tlv(Tag.MESSAGE_STATE, b"\x02")))


def outcome(frame: bytes, fast: bool):
    with pytest.MonkeyPatch.context() as m:
        if not fast:
            m.setattr(pdu, "_decode_sm_fast", lambda data: None)
        try:
            return decode(frame)
        except PduError as e:
            return ("error", e.status, e.command_id, e.sequence, str(e))


def with_body(body: bytes, command_id=CommandId.DELIVER_SM) -> bytes:
    return pdu.HEADER.pack(16 + len(body), command_id, 0, 7) + body


def test_a_deliver_sm_reads_the_same_on_both_paths():
    frame = encode(Pdu(CommandId.DELIVER_SM, 7, 0, BODY))
    fast = outcome(frame, True)
    assert fast == outcome(frame, False) == Pdu(CommandId.DELIVER_SM, 7, 0, BODY)
    assert fast.body.tlv(Tag.MESSAGE_STATE) == b"\x02" and hash(fast.body) == hash(BODY)


def test_the_one_pass_takes_a_well_formed_body():
    """The point of it: a normal body does not fall back to the checked reader."""
    body = encode(Pdu(CommandId.SUBMIT_SM, 1, 0, BODY))[16:]
    assert pdu._decode_sm_fast(body) == BODY


def test_every_cut_of_a_body_reads_the_same_on_both_paths():
    body = encode(Pdu(CommandId.SUBMIT_SM, 7, 0, BODY))[16:]
    for cut in range(len(body) + 1):
        frame = with_body(body[:cut], CommandId.SUBMIT_SM)
        assert outcome(frame, True) == outcome(frame, False), cut


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_changed_bytes_read_the_same_on_both_paths(data):
    body = bytearray(encode(Pdu(CommandId.DELIVER_SM, 7, 0, BODY))[16:])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body) - 1))
        body[at] = data.draw(st.sampled_from([0, 1, 2, 5, 0x41, 0x80, 0xFF, body[at] ^ 0xFF]))
    extra = data.draw(st.binary(max_size=8))
    frame = with_body(bytes(body) + extra)
    assert outcome(frame, True) == outcome(frame, False)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=120))
def test_any_bytes_read_the_same_on_both_paths(body):
    frame = with_body(body)
    assert outcome(frame, True) == outcome(frame, False)


def encoded(message: Pdu, fast: bool):
    with pytest.MonkeyPatch.context() as m:
        if not fast:
            m.setattr(pdu, "_encode_sm_fast", lambda body: None)
        try:
            return encode(message)
        except PduError as e:
            return ("error", e.status, e.command_id, e.sequence, str(e))


def test_the_one_pass_writes_a_valid_body():
    assert pdu._encode_sm_fast(BODY) == encode(Pdu(CommandId.SUBMIT_SM, 1, 0, BODY))[16:]


TEXT = st.text(alphabet=st.sampled_from("0aZ\0é库"), max_size=22)
OCTET = st.sampled_from([0, 1, 4, 255, 256, -1])


@settings(max_examples=400, deadline=None)
@given(st.fixed_dictionaries({
    "service_type": TEXT, "source_addr": TEXT, "destination_addr": TEXT,
    "schedule_delivery_time": TEXT, "validity_period": TEXT,
    "source_addr_ton": OCTET, "dest_addr_npi": OCTET, "esm_class": OCTET, "data_coding": OCTET,
    "short_message": st.binary(max_size=260),
    "tlvs": st.lists(st.builds(Tlv, st.sampled_from([0x0204, 0x1400, 0x10000, -1]),
                               st.binary(max_size=4)), max_size=2).map(tuple),
}))
def test_any_sm_encodes_the_same_on_both_paths(fields):
    message = Pdu(CommandId.SUBMIT_SM, 9, 0, Sm(**fields))
    assert encoded(message, True) == encoded(message, False)
