"""WAP Push SI: WBXML golden bytes from the SI specification's example (WAP-167, also what
Kannel's SI compiler produces for it), the WSP/WDP envelope, and decoding it back."""
from __future__ import annotations

import os
import re
import subprocess
from datetime import datetime

import pytest

from gateway.web.wap.push import PushError, decode_push, si_wbxml, wap_push_si

# WAP-167-ServiceInd-20010731-a, the tokenised form of its example SI.
SPEC_EXAMPLE = (
    bytes.fromhex("02 05 6A 00 45 C6 0D 03") + b"xyz" + bytes.fromhex("00 85 03") + b"email/123/abc.wml"
    + bytes.fromhex("00 0A C3 07 19 99 06 25 15 23 15 10 C3 04 19 99 06 30 01 03")
    + b"You have 4 new emails" + bytes.fromhex("00 01 01")
)
TEST_SI = "/usr/lib/kannel/test/test_si"


def test_the_specifications_example_si_encodes_to_its_golden_bytes():
    assert si_wbxml("http://www.xyz.com/email/123/abc.wml", "You have 4 new emails",
                    created=datetime(1999, 6, 25, 15, 23, 15),
                    expires=datetime(1999, 6, 30, 0, 0, 0)) == SPEC_EXAMPLE


@pytest.mark.skipif(not os.access(TEST_SI, os.X_OK), reason="Kannel's test_si (kannel-extras) not installed")
def test_kannels_si_compiler_agrees_on_one_of_our_links(tmp_path):
    href = "https://merp.example.org/wap/doc/1001?exp=1700000000&sig=ab12"
    source = tmp_path / "si.xml"
    source.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE si PUBLIC "-//WAPFORUM//DTD SI 1.0//EN" '
        '"http://www.wapforum.org/DTD/si.dtd">\n'
        f'<si><indication href="{href.replace("&", "&amp;")}" action="signal-medium">Order 1001 waits</indication></si>')
    dump = tmp_path / "out.txt"  # test_si writes its result, escaped, to the -f file
    subprocess.run([TEST_SI, "-f", str(dump), str(source)], capture_output=True, timeout=30, check=True)
    escaped = dump.read_bytes().decode("latin-1").split("content being\\x0a", 1)[1].strip()
    kannel = re.sub(rb"\\x([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]), escaped.encode("latin-1"))
    assert si_wbxml(href, "Order 1001 waits", action="signal-medium") == kannel


def test_a_push_sms_has_the_port_udh_a_wsp_push_header_and_fits_one_message():
    url = "http://merp.example.com/wap/doc/1001?exp=1700000000&sig=" + "a" * 32
    payload = wap_push_si(url, "Order 1001 (4999.00) waits for your approval " * 5)
    assert payload[:7] == bytes.fromhex("06 05 04 0B 84 23 F0")  # ports 2948 <- 9200
    assert payload[7:13] == bytes.fromhex("00 06 03 AE AF 82")  # TID, Push, sic, wml.ua
    assert len(payload) <= 140
    si = decode_push(payload)
    assert si.href == url and si.text.startswith("Order 1001 (4999.00) waits")


def test_decoding_reads_back_text_with_non_ascii_and_value_tokens():
    payload = wap_push_si("https://www.shop.net/x", "订单 1001 待批")
    assert decode_push(payload).href == "https://www.shop.net/x"
    assert decode_push(payload).text == "订单 1001 待批"


def test_what_is_not_an_si_push_decodes_to_none():
    assert decode_push(b"") is None
    assert decode_push(b"hello") is None
    payload = bytearray(wap_push_si("http://a.b/", "x"))
    payload[4:6] = b"\x0b\x85"  # another port
    assert decode_push(bytes(payload)) is None


def test_bad_input_gets_a_clear_error():
    with pytest.raises(PushError):
        wap_push_si("", "x")
    with pytest.raises(PushError):
        wap_push_si("http://x/" + "a" * 200, "x")
    with pytest.raises(PushError):
        si_wbxml("http://x/", "a\x00b")
