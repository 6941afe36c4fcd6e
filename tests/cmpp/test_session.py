"""The SP session over CMPP: connect and authentication, window and flow control, resends,
keep-alive and TERMINATE, driven on task.Clock against the simulated ISMG (Wire) or a
scripted one (FakeIsmgEnd)."""
from __future__ import annotations

import pytest

from gateway.cmpp.pdu import (
    ActiveTestResp,
    CommandId,
    Deliver,
    Empty,
    Pdu,
    Submit,
    SubmitResp,
)
from gateway.cmpp.session import AUTH_MISMATCH, ConnectRefused, State
from gateway.smpp.session import LinkDown, SubmitRejected
from sim.ismg import Ismg, IsmgSettings
from tests.cmpp.helpers import FakeIsmgEnd, Wire

BODY = Submit(dest_terminal_ids=("13800000001",), msg_content=b"hello", src_id="106571234501",
              registered_delivery=1)


def failure_of(d):
    caught = []
    d.addErrback(lambda f: caught.append(f.value))
    return caught


@pytest.mark.parametrize("version", [0x20, 0x30])
def test_the_sp_connects_to_the_ismg_and_a_submit_gets_a_msg_id(version):
    wire = Wire(version=version)
    wire.flush()
    assert wire.session.state is State.BOUND
    assert wire.ismg.sessions[0].version == version
    out = wire.submit(BODY)
    wire.flush()
    [msg_id] = out
    assert isinstance(msg_id, int) and msg_id > 0
    assert wire.ismg.phonebook.get("13800000001").inbox[0].text == "hello"


def test_a_wrong_shared_secret_is_refused_with_status_3_and_the_connection_closed():
    wire = Wire(shared_secret="wrong")
    caught = failure_of(wire.sp.when_bound())
    wire.flush()
    assert isinstance(caught[0], ConnectRefused) and caught[0].status == 3
    assert wire.session.state is State.CLOSED
    assert wire.ismg.counters["connects_refused"] == 1 and wire.ismg.sessions == []


def test_an_ismg_that_does_not_know_our_secret_is_not_trusted():
    end = FakeIsmgEnd()
    caught = failure_of(end.bound)
    end.accept_connect(authenticator=b"\x11" * 16)
    assert isinstance(caught[0], ConnectRefused) and caught[0].status == AUTH_MISMATCH
    assert end.transport.disconnecting


def test_a_window_overrun_is_answered_result_8_and_the_session_resends_after_a_pause():
    wire = Wire(window=4, flow_control_backoff=1.0)
    wire.ismg.settings.submit_window = 2
    wire.ismg.settings.submit_delay = 1.0
    wire.flush()
    results = [wire.submit(BODY) for _ in range(4)]
    wire.flush()
    assert wire.ismg.counters["submits_throttled"] == 2  # two past the ISMG's window
    assert all(r == [] for r in results)  # flow control is not the pipeline's business yet
    for _ in range(3):
        wire.clock.advance(1.0)
        wire.flush()
    assert all(len(r) == 1 and isinstance(r[0], int) for r in results)
    assert len({r[0] for r in results}) == 4
    assert wire.ismg.counters["submits_ok"] == 4


def test_result_8_that_lasts_reaches_the_pipeline_as_a_transient_rejection():
    end = FakeIsmgEnd(flow_control_backoff=0.5)
    end.accept_connect()
    out = []
    end.protocol.session.submit(BODY, out.append)
    for _ in range(4):  # first send and three resends after a pause, each refused
        (submit,) = end.received()
        end.send(Pdu(CommandId.SUBMIT_RESP, submit.sequence, SubmitResp(0, 8)))
        end.clock.advance(10)
    assert isinstance(out[0], SubmitRejected) and out[0].transient and out[0].status == 8


def test_a_missing_submit_resp_is_resent_n_times_then_reported_transient():
    end = FakeIsmgEnd(response_timeout=60, retries=3)
    end.accept_connect()
    out = []
    end.protocol.session.submit(BODY, out.append)
    (first,) = end.received()
    sent = [first]
    for _ in range(2):
        end.clock.advance(60)
        sent += end.received()
    assert [p.sequence for p in sent] == [first.sequence] * 3 and out == []
    end.clock.advance(60)
    assert isinstance(out[0], SubmitRejected) and out[0].transient


def test_a_permanent_result_is_not_retried():
    end = FakeIsmgEnd()
    end.accept_connect()
    out = []
    end.protocol.session.submit(BODY, out.append)
    (submit,) = end.received()
    end.send(Pdu(CommandId.SUBMIT_RESP, submit.sequence, SubmitResp(0, 13)))
    assert isinstance(out[0], SubmitRejected) and not out[0].transient


def test_a_silent_ismg_gets_active_test_three_times_then_the_connection_is_dropped():
    end = FakeIsmgEnd(active_test_interval=180, response_timeout=60, retries=3)
    end.accept_connect()
    end.clock.advance(180)
    tests = end.received()
    for _ in range(2):
        end.clock.advance(60)
        tests += end.received()
    assert [p.command_id for p in tests] == [CommandId.ACTIVE_TEST] * 3
    assert not end.transport.disconnecting
    end.clock.advance(60)
    assert end.transport.disconnecting


def test_an_answered_active_test_keeps_the_connection():
    end = FakeIsmgEnd(active_test_interval=180, response_timeout=60)
    end.accept_connect()
    for _ in range(5):
        end.clock.advance(180)
        (test,) = end.received()
        end.send(Pdu(CommandId.ACTIVE_TEST_RESP, test.sequence, ActiveTestResp()))
    assert not end.transport.disconnecting


def test_the_ismg_active_test_is_answered():
    end = FakeIsmgEnd()
    end.accept_connect()
    end.send(Pdu(CommandId.ACTIVE_TEST, 77, Empty()))
    assert end.received() == [Pdu(CommandId.ACTIVE_TEST_RESP, 77, ActiveTestResp())]


def test_a_terminate_from_the_ismg_is_answered_and_everything_in_flight_fails_link_down():
    wire = Wire()
    wire.ismg.settings.submit_delay = 5.0
    wire.flush()
    out = wire.submit(BODY)
    wire.flush()
    wire.ismg.sessions[0].terminate()
    wire.flush()
    assert wire.session.state is State.CLOSED
    assert isinstance(out[0], LinkDown)
    assert wire.ismg.sessions == []


def test_stopping_sends_terminate_and_hangs_up_on_its_resp():
    end = FakeIsmgEnd()
    end.accept_connect()
    end.protocol.unbind()
    (terminate,) = end.received()
    assert terminate.command_id is CommandId.TERMINATE and not end.transport.disconnecting
    end.send(Pdu(CommandId.TERMINATE_RESP, terminate.sequence, Empty()))
    assert end.transport.disconnecting


def test_a_deliver_is_answered_only_when_the_link_replies():
    end = FakeIsmgEnd()
    end.accept_connect()
    end.events.hold = True
    end.send(Pdu(CommandId.DELIVER, 5, Deliver(msg_id=99, dest_id="1065", src_terminal_id="138",
                                                msg_content=b"hi")))
    assert end.received() == []
    end.events.replies[0](0)
    [resp] = end.received()
    assert (resp.command_id, resp.sequence, resp.body.msg_id, resp.body.result) == \
        (CommandId.DELIVER_RESP, 5, 99, 0)


def test_an_unreadable_deliver_is_answered_with_result_1_and_the_session_carries_on():
    end = FakeIsmgEnd()
    end.accept_connect()
    bad = b"\x00\x00\x00\x15\x00\x00\x00\x05\x00\x00\x00\x09" + b"\x00" * 8 + b"\x01"
    end.protocol.dataReceived(bad)
    [resp] = end.received()
    assert (resp.command_id, resp.sequence, resp.body.result) == (CommandId.DELIVER_RESP, 9, 1)
    assert end.protocol.session.state is State.BOUND


def test_mos_unacked_when_the_connection_drops_are_redelivered_on_the_next_one():
    clock_wire = Wire()
    clock_wire.flush()
    clock_wire.events.hold = True
    clock_wire.ismg.queue_mo("13800000002", None, "STOCK X100")
    clock_wire.flush()
    assert len(clock_wire.events.delivers) == 1
    clock_wire.close()
    again = Wire(clock=clock_wire.clock, ismg=clock_wire.ismg)
    again.flush()
    assert [d.src_terminal_id for d in again.events.delivers] == ["13800000002"]
    assert clock_wire.ismg.counters["mos_acked"] == 1
