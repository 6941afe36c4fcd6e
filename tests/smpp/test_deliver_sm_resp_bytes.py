"""deliver_sm_resp is packed directly (one for every MO and receipt): golden bytes from
SMPP 3.4 section 4.6.2 (header, then message_id unused: one NUL)."""
from __future__ import annotations

from gateway.smpp.pdu import CommandId, Pdu, Sm, Status, deliver_sm_resp, encode
from tests.smpp.test_session import Recorder, bound_session


def test_deliver_sm_resp_golden_bytes():
    assert deliver_sm_resp(0x01020304, 0) == bytes.fromhex(
        "00000011" "80000005" "00000000" "01020304" "00")
    assert deliver_sm_resp(7, Status.ESME_RX_T_APPN) == bytes.fromhex(
        "00000011" "80000005" "00000064" "00000007" "00")


def test_it_is_what_the_general_encoder_gives_for_the_response():
    deliver = Pdu(CommandId.DELIVER_SM, 0x7FFFFFFF, 0, Sm(source_addr="861"))
    for status in (Status.ESME_ROK, Status.ESME_RX_T_APPN, Status.ESME_RX_P_APPN, 0x0400):
        assert deliver_sm_resp(deliver.sequence, status) == encode(deliver.response(status=status))


class _Bytes(Recorder):
    def send_bytes(self, data: bytes) -> None:
        super().send_bytes(data)
        self.raw = getattr(self, "raw", []) + [data]


def test_the_session_acks_a_deliver_sm_with_those_bytes():
    session, rec, _ = bound_session()
    session.listener = raw = _Bytes()
    session.pdu_received(Pdu(CommandId.DELIVER_SM, 0x0A0B0C0D, 0, Sm(short_message=b"hi")))
    (_, reply), = raw.delivers
    reply(Status.ESME_RX_T_APPN)
    assert raw.raw == [bytes.fromhex("00000011" "80000005" "00000064" "0A0B0C0D" "00")]
