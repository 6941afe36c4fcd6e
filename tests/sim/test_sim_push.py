"""The simulator's handsets show WAP Push Service Indications as "[WAP Push] text url"."""
from __future__ import annotations

import pytest

from gateway.smpp.pdu import Sm, Tag, Tlv
from gateway.web.wap.push import wap_push_si
from sim.testing import make_smsc

URL = "http://127.0.0.1:8080/wap/d/1001?t=abc"


def submit(smsc, payload, *, esm_class=0x40, data_coding=4, in_tlv=False):
    sm = Sm(source_addr="106571234501", destination_addr="13800000002", esm_class=esm_class,
            data_coding=data_coding, short_message=b"" if in_tlv else payload,
            tlvs=(Tlv(Tag.MESSAGE_PAYLOAD, payload),) if in_tlv else ())
    status, _message_id = smsc.submit(sm)
    assert status == 0
    return [m.text for m in smsc.phonebook.get("13800000002").inbox]


@pytest.mark.parametrize("data_coding", [0x04, 0xF5])
def test_an_si_to_port_2948_shows_its_text_and_link(data_coding):
    smsc = make_smsc()
    texts = submit(smsc, wap_push_si(URL, "Order 1001 awaits approval"), data_coding=data_coding)
    assert texts == [f"[WAP Push] Order 1001 awaits approval {URL}"]
    assert smsc.counters["handset_messages"] == 1


def test_an_si_in_message_payload_is_shown_too():
    texts = submit(make_smsc(), wap_push_si(URL, "Approve"), in_tlv=True)
    assert texts == [f"[WAP Push] Approve {URL}"]


def test_without_udhi_the_bytes_are_not_read_as_a_push():
    texts = submit(make_smsc(), wap_push_si(URL, "Approve"), esm_class=0)
    assert len(texts) == 1 and not texts[0].startswith("[WAP Push]")


def test_a_udh_to_another_port_is_not_a_push():
    payload = bytearray(wap_push_si(URL, "Approve"))
    payload[3:5] = (9204).to_bytes(2, "big")  # destination port: not the push port
    texts = submit(make_smsc(), bytes(payload))
    assert len(texts) == 1 and not texts[0].startswith("[WAP Push]")


def test_a_truncated_push_is_shown_as_plain_data_not_a_crash():
    texts = submit(make_smsc(), wap_push_si(URL, "Approve")[:12])
    assert len(texts) == 1 and not texts[0].startswith("[WAP Push]")
