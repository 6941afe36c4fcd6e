"""The simulated ISMG: CONNECT checks, real Msg_Ids, status reports with a delay and an
outcome mix, window and rate answered with Result 8, MOs from the SMSC's own handsets."""
from __future__ import annotations

from twisted.internet import task

from gateway.cmpp.auth import authenticator_source
from gateway.cmpp.msgid import parse_msg_id
from gateway.cmpp.pdu import Submit
from sim.handsets import Phonebook
from sim.ismg import Ismg, IsmgSettings
from sim.smsc import Smsc, SmscSettings
from tests.cmpp.helpers import Wire

BODY = Submit(dest_terminal_ids=("13800000001",), msg_content=b"hi", src_id="106571234501",
              registered_delivery=1)


def make(**settings):
    settings.setdefault("seed", 11)
    return Ismg(task.Clock(), IsmgSettings(sp_id="901234", shared_secret="secret", **settings))


def test_connect_checks_sp_id_authenticator_and_version():
    ismg = make()
    good = authenticator_source("901234", "secret", "0704123456")
    assert ismg.check_connect("901234", good, 0x30, 704123456) == 0
    assert ismg.check_connect("901234", good, 0x30, 704123457) == 3  # another timestamp
    assert ismg.check_connect("999999", good, 0x30, 704123456) == 2
    assert ismg.check_connect("901234", good, 0x40, 704123456) == 4


def test_msg_ids_follow_the_specification_layout_with_the_ismg_code_and_a_counter():
    ismg = make(gateway_id=0x2345)
    ismg.clock.advance(86400 * 40)  # some day in February 1970
    first, second = ismg.msg_ids.next(), ismg.msg_ids.next()
    a, b = parse_msg_id(first), parse_msg_id(second)
    assert a.gateway == b.gateway == 0x2345 and a.month == 2
    assert (b.sequence - a.sequence) % 65536 == 1


def test_reports_follow_the_outcome_mix_after_the_delay():
    clock = task.Clock()
    wire = Wire(clock=clock, ismg=Ismg(clock, IsmgSettings(
        seed=2, shared_secret="s3cret", receipt_delay=5.0, outcomes={"UNDELIV": 1.0})))
    wire.flush()
    out = wire.submit(BODY)
    wire.flush()
    assert wire.events.delivers == []
    wire.ismg.clock.advance(5.0)
    wire.flush()
    [report] = [d.report for d in wire.events.delivers]
    assert (report.msg_id, report.stat, report.dest_terminal_id) == (out[0], "UNDELIV", "13800000001")


def test_the_rate_limit_is_answered_with_result_8():
    ismg = make(throttle_rate=1.0)
    assert ismg.submit(BODY)[0] == 0
    assert ismg.submit(BODY) == (8, 0)
    ismg.clock.advance(1.0)
    assert ismg.submit(BODY)[0] == 0


def test_the_ismg_and_the_smsc_serve_the_same_handsets():
    clock = task.Clock()
    phonebook = Phonebook()
    smsc = Smsc(clock, SmscSettings(seed=1), phonebook)
    ismg = Ismg(clock, IsmgSettings(seed=1), phonebook)
    ismg.submit(BODY)
    assert smsc.phonebook.get("13800000001").inbox[0].text == "hi"


def test_a_long_mo_goes_as_udh_parts_and_is_done_when_every_part_is_acked():
    wire = Wire()
    wire.flush()
    mo = wire.ismg.queue_mo("13800000002", "106571234501", "库存" * 50)
    wire.flush()
    assert [d.tp_udhi for d in wire.events.delivers] == [1, 1]
    assert [d.msg_fmt for d in wire.events.delivers] == [8, 8]
    assert mo.acked_at is not None and wire.ismg.counters["mos_acked"] == 1


def test_an_unanswered_deliver_is_sent_again_after_the_response_timeout():
    wire = Wire()
    wire.flush()
    wire.events.hold = True
    wire.ismg.queue_mo("13800000002", None, "HELP")
    wire.flush()
    wire.clock.advance(wire.ismg.settings.response_timeout)
    wire.clock.advance(wire.ismg.settings.retry_delay)
    wire.flush()
    assert [d.msg_content for d in wire.events.delivers] == [b"HELP", b"HELP"]
