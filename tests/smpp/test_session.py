"""The sans-IO ESME session, driven by a task.Clock and a recording listener."""
from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from gateway.smpp.framing import FramingError
from gateway.smpp.pdu import (
    MAX_SEQUENCE,
    BindResp,
    CommandId,
    Empty,
    Pdu,
    PduError,
    Sm,
    SmResp,
    Status,
    decode,
)
from gateway.smpp.session import (
    STATUS_TIMEOUT,
    EsmeSession,
    LinkDown,
    SessionSettings,
    State,
    SubmitRejected,
)


class Recorder:
    """A SessionListener that keeps what the session asked for."""

    def __init__(self):
        self.sent: list[Pdu] = []
        self.disconnects = 0
        self.bound = 0
        self.bind_failures: list[int] = []
        self.freed = 0
        self.delivers: list[tuple[Sm, object]] = []

    def send_bytes(self, data: bytes) -> None:
        self.sent.append(decode(data))

    def disconnect(self) -> None:
        self.disconnects += 1

    def session_bound(self) -> None:
        self.bound += 1

    def bind_failed(self, status: int) -> None:
        self.bind_failures.append(status)

    def slot_freed(self) -> None:
        self.freed += 1

    def deliver_received(self, sm, reply) -> None:
        self.delivers.append((sm, reply))

    def take(self) -> list[Pdu]:
        sent, self.sent = self.sent, []
        return sent


def make(**overrides):
    clock = Clock()
    rec = Recorder()
    session = EsmeSession(rec, clock, SessionSettings(**overrides))
    return session, rec, clock


def bound_session(**overrides):
    session, rec, clock = make(**overrides)
    session.start()
    (bind,) = rec.take()
    session.pdu_received(bind.response(body=BindResp("SMSC")))
    return session, rec, clock


def submit(session, results, sm=Sm(destination_addr="861")):
    session.submit(sm, results.append)


# --- bind ------------------------------------------------------------------------------


def test_start_sends_bind_transceiver_with_our_credentials():
    session, rec, _ = make(system_id="erp", password="pw", system_type="X")
    session.start()
    (bind,) = rec.take()
    assert bind.command_id is CommandId.BIND_TRANSCEIVER and bind.sequence == 1
    assert (bind.body.system_id, bind.body.password, bind.body.system_type) == \
        ("erp", "pw", "X")
    assert session.state is State.BINDING and session.capacity() == 0


def test_bind_resp_ok_binds_and_opens_the_window():
    session, rec, _ = bound_session(window=4)
    assert session.state is State.BOUND and rec.bound == 1
    assert session.capacity() == 4


def test_refused_bind_reports_the_status_and_disconnects():
    session, rec, _ = make()
    session.start()
    (bind,) = rec.take()
    session.pdu_received(bind.response(status=Status.ESME_RINVPASWD, body=Empty()))
    assert rec.bind_failures == [Status.ESME_RINVPASWD]
    assert rec.disconnects == 1 and session.state is State.CLOSED


def test_unanswered_bind_times_out_and_disconnects():
    session, rec, clock = make(response_timeout=5)
    session.start()
    clock.advance(4.9)
    assert rec.disconnects == 0
    clock.advance(0.2)
    assert rec.disconnects == 1 and rec.bind_failures == [Status.ESME_RBINDFAIL]


def test_submit_before_bound_fails_with_link_down():
    session, rec, _ = make()
    results = []
    submit(session, results)
    assert isinstance(results[0], LinkDown) and rec.sent == []


# --- window, responses, timeouts ---------------------------------------------------------


def test_the_eleventh_submit_waits_for_a_free_window_slot():
    session, rec, _ = bound_session(window=10)
    results = []
    for _ in range(11):
        submit(session, results)
    sent = rec.take()
    assert len(sent) == 10 and session.capacity() == 0
    assert all(p.command_id is CommandId.SUBMIT_SM for p in sent)
    session.pdu_received(sent[0].response(body=SmResp("id-1")))
    assert results == ["id-1"]
    (eleventh,) = rec.take()
    assert eleventh.command_id is CommandId.SUBMIT_SM
    assert rec.freed == 1 and session.capacity() == 0


def test_capacity_counts_queued_and_in_flight_submits():
    session, rec, _ = bound_session(window=3)
    results = []
    submit(session, results)
    assert session.capacity() == 2


def test_unanswered_submit_fails_transient_after_the_response_timeout():
    session, rec, clock = bound_session(response_timeout=10, enquire_link_interval=0)
    results = []
    submit(session, results)
    clock.advance(9.9)
    assert results == []
    clock.advance(0.2)
    (error,) = results
    assert isinstance(error, SubmitRejected)
    assert error.transient and error.status == STATUS_TIMEOUT
    assert session.capacity() == 10 and rec.disconnects == 0


def test_late_response_after_a_timeout_is_ignored():
    session, rec, clock = bound_session(response_timeout=1, enquire_link_interval=0)
    results = []
    submit(session, results)
    (sm,) = rec.take()
    clock.advance(2)
    session.pdu_received(sm.response(body=SmResp("late")))
    assert len(results) == 1 and isinstance(results[0], SubmitRejected)


@pytest.mark.parametrize("status, transient", [
    (Status.ESME_RTHROTTLED, True),
    (Status.ESME_RMSGQFUL, True),
    (Status.ESME_RX_T_APPN, True),
    (Status.ESME_RSYSERR, True),
    (Status.ESME_RINVDSTADR, False),
    (Status.ESME_RSUBMITFAIL, False),
])
def test_refused_submit_errbacks_transient_or_permanent(status, transient):
    session, rec, _ = bound_session()
    results = []
    submit(session, results)
    (sm,) = rec.take()
    session.pdu_received(sm.response(status=status, body=Empty()))
    (error,) = results
    assert isinstance(error, SubmitRejected)
    assert error.status == status and error.transient is transient


def test_generic_nack_for_a_submit_fails_it_with_that_status():
    session, rec, _ = bound_session()
    results = []
    submit(session, results)
    (sm,) = rec.take()
    session.pdu_received(Pdu(CommandId.GENERIC_NACK, sm.sequence, Status.ESME_RINVCMDLEN))
    assert results[0].status == Status.ESME_RINVCMDLEN


def test_unencodable_submit_fails_permanently_and_frees_its_slot():
    session, rec, _ = bound_session(window=1)
    results = []
    submit(session, results, Sm(destination_addr="9" * 40))
    assert isinstance(results[0], SubmitRejected) and not results[0].transient
    assert results[0].status == Status.ESME_RINVDSTADR
    assert session.capacity() == 1


def test_sequence_numbers_wrap_to_one_after_the_maximum():
    session, rec, _ = bound_session(window=3)
    session._next_sequence = MAX_SEQUENCE
    results = []
    submit(session, results)
    submit(session, results)
    assert [p.sequence for p in rec.take()] == [MAX_SEQUENCE, 1]


def test_rate_limit_spaces_submits_on_the_clock():
    session, rec, clock = bound_session(rate=10.0, enquire_link_interval=0)
    results = []
    for _ in range(3):
        submit(session, results)
    assert len(rec.take()) == 1
    clock.advance(0.1)
    assert len(rec.take()) == 1
    clock.advance(0.1)
    assert len(rec.take()) == 1


def test_connection_lost_fails_in_flight_and_queued_submits_with_link_down():
    session, rec, _ = bound_session(window=1)
    results = []
    submit(session, results)
    submit(session, results)
    session.connection_lost()
    assert len(results) == 2 and all(isinstance(r, LinkDown) for r in results)
    assert session.capacity() == 0


# --- keep-alive ------------------------------------------------------------------------


def test_idle_link_sends_enquire_link_and_survives_when_answered():
    session, rec, clock = bound_session(enquire_link_interval=30, response_timeout=10)
    clock.advance(30)
    (ping,) = rec.take()
    assert ping.command_id is CommandId.ENQUIRE_LINK
    session.pdu_received(ping.response())
    clock.advance(15)
    assert rec.disconnects == 0 and session.state is State.BOUND


def test_unanswered_enquire_link_drops_the_connection():
    session, rec, clock = bound_session(enquire_link_interval=30, response_timeout=10)
    clock.advance(30)
    assert rec.take()[0].command_id is CommandId.ENQUIRE_LINK
    clock.advance(10)
    assert rec.disconnects == 1 and session.state is State.CLOSED


def test_traffic_from_the_smsc_postpones_the_keep_alive():
    session, rec, clock = bound_session(enquire_link_interval=30)
    clock.advance(20)
    session.pdu_received(Pdu(CommandId.ENQUIRE_LINK, 500))
    rec.take()
    clock.advance(20)
    assert rec.take() == []
    clock.advance(10)
    assert [p.command_id for p in rec.take()] == [CommandId.ENQUIRE_LINK]


# --- what the SMSC asks ----------------------------------------------------------------


def test_smsc_enquire_link_is_answered_with_the_same_sequence():
    session, rec, _ = bound_session()
    session.pdu_received(Pdu(CommandId.ENQUIRE_LINK, 1234))
    assert rec.take() == [Pdu(CommandId.ENQUIRE_LINK_RESP, 1234)]


def test_smsc_unbind_is_answered_then_the_connection_dropped():
    session, rec, _ = bound_session()
    results = []
    submit(session, results)
    rec.take()
    session.pdu_received(Pdu(CommandId.UNBIND, 77))
    assert rec.take() == [Pdu(CommandId.UNBIND_RESP, 77)]
    assert rec.disconnects == 1 and isinstance(results[0], LinkDown)


def test_deliver_sm_is_acked_only_when_the_owner_replies():
    session, rec, _ = bound_session()
    sm = Sm(source_addr="861", short_message=b"hi")
    session.pdu_received(Pdu(CommandId.DELIVER_SM, 40, 0, sm))
    (got, reply), = rec.delivers
    assert got == sm and rec.take() == []
    reply(Status.ESME_ROK)
    reply(Status.ESME_ROK)  # a second reply is ignored
    assert rec.take() == [Pdu(CommandId.DELIVER_SM_RESP, 40, 0, SmResp())]


def test_reply_after_the_connection_is_gone_sends_nothing():
    session, rec, _ = bound_session()
    session.pdu_received(Pdu(CommandId.DELIVER_SM, 40, 0, Sm()))
    (_, reply), = rec.delivers
    session.connection_lost()
    reply(Status.ESME_ROK)
    assert rec.take() == []


def test_deliver_sm_before_bound_is_refused_with_invalid_bind_status():
    session, rec, _ = make()
    session.start()
    rec.take()
    session.pdu_received(Pdu(CommandId.DELIVER_SM, 3, 0, Sm()))
    (resp,) = rec.take()
    assert resp.command_id is CommandId.DELIVER_SM_RESP
    assert resp.status == Status.ESME_RINVBNDSTS and rec.delivers == []


def test_request_we_do_not_serve_gets_generic_nack_invalid_command():
    session, rec, _ = bound_session()
    session.pdu_received(Pdu(CommandId.SUBMIT_SM, 8, 0, Sm()))
    assert rec.take() == [Pdu(CommandId.GENERIC_NACK, 8, Status.ESME_RINVCMDID)]


# --- malformed input -------------------------------------------------------------------


def test_malformed_deliver_sm_is_answered_with_its_error_status():
    session, rec, _ = bound_session()
    session.bad_pdu(PduError(Status.ESME_RINVSRCADR, CommandId.DELIVER_SM, 9, "bad"))
    (resp,) = rec.take()
    assert (resp.command_id, resp.sequence, resp.status) == \
        (CommandId.DELIVER_SM_RESP, 9, Status.ESME_RINVSRCADR)
    assert session.state is State.BOUND


def test_unknown_command_is_answered_with_generic_nack():
    session, rec, _ = bound_session()
    session.bad_pdu(PduError(Status.ESME_RINVCMDID, 0x777, 10, "unknown"))
    session.bad_pdu(PduError(Status.ESME_RINVCMDID, CommandId.DATA_SM, 11, "unsupported"))
    assert rec.take() == [Pdu(CommandId.GENERIC_NACK, 10, Status.ESME_RINVCMDID),
                          Pdu(CommandId.GENERIC_NACK, 11, Status.ESME_RINVCMDID)]


def test_malformed_submit_sm_resp_fails_its_submit_and_nacks():
    session, rec, _ = bound_session()
    results = []
    submit(session, results)
    (sm,) = rec.take()
    session.bad_pdu(PduError(Status.ESME_RINVCMDLEN, CommandId.SUBMIT_SM_RESP,
                             sm.sequence, "trailing"))
    assert isinstance(results[0], SubmitRejected)
    assert rec.take() == [Pdu(CommandId.GENERIC_NACK, sm.sequence, Status.ESME_RINVCMDLEN)]


def test_corrupt_stream_sends_generic_nack_and_disconnects():
    session, rec, _ = bound_session()
    session.corrupt_stream(FramingError(3, 21, "short"))
    assert rec.take() == [Pdu(CommandId.GENERIC_NACK, 21, Status.ESME_RINVCMDLEN)]
    assert rec.disconnects == 1 and session.state is State.CLOSED


# --- stop ------------------------------------------------------------------------------


def test_stop_unbinds_and_disconnects_on_unbind_resp():
    session, rec, _ = bound_session()
    session.stop()
    (unbind,) = rec.take()
    assert unbind.command_id is CommandId.UNBIND and session.state is State.UNBINDING
    assert rec.disconnects == 0
    session.pdu_received(unbind.response())
    assert rec.disconnects == 1 and session.state is State.CLOSED


def test_stop_disconnects_anyway_when_unbind_resp_never_comes():
    session, rec, clock = bound_session()
    session.stop()
    clock.advance(2.0)
    assert rec.disconnects == 1 and clock.getDelayedCalls() == []


def test_stop_fails_queued_submits_but_lets_in_flight_ones_finish():
    session, rec, _ = bound_session(window=1)
    results = []
    submit(session, results)
    submit(session, results)
    (sm,) = rec.take()
    session.stop()
    assert isinstance(results[0], LinkDown)
    session.pdu_received(sm.response(body=SmResp("done")))
    assert results[1] == "done"


def test_stop_before_bound_just_disconnects():
    session, rec, _ = make()
    session.start()
    rec.take()
    session.stop()
    assert rec.take() == [] and rec.disconnects == 1
