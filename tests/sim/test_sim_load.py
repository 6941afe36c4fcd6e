"""The load runner: matching replies to commands, losses, pacing, and its statistics,
against an in-process fake gateway on a task.Clock."""
from __future__ import annotations

import pytest
from twisted.internet import task

from gateway.smpp.pdu import Sm
from sim.load import LoadRunner, format_report, parse_mix, percentile, summarize, wait_for_bind
from sim.testing import BoundFake, FakeEsme, make_smsc, run_to_end


class FakeGateway(BoundFake):
    """Stands where a bound SmscSession would: acks each MO after `ack_delay`, then
    replies "RE <text>" after `reply_delay(n)` for the n-th MO (None = never replies)."""

    def __init__(self, smsc, clock, ack_delay=0.0, reply_delay=lambda n: 0.5):
        super().__init__(smsc)
        self.clock = clock
        self.ack_delay = ack_delay
        self.reply_delay = reply_delay
        self.seen = []

    def deliver(self, delivery):
        n = len(self.seen)
        self.seen.append(delivery)
        self.clock.callLater(self.ack_delay, self.smsc.acknowledged, delivery)
        delay = self.reply_delay(n)
        if delay is not None:
            self.clock.callLater(self.ack_delay + delay, self.reply, delivery.body)

    def reply(self, mo_body):
        text = b"RE " + mo_body.short_message
        self.smsc.submit(Sm(source_addr=mo_body.destination_addr,
                            destination_addr=mo_body.source_addr, short_message=text))


def test_nearest_rank_percentiles():
    values = [float(v) for v in range(100, 0, -1)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50, 95, 99)
    assert percentile([3.0], 99) == 3.0
    assert percentile([], 50) is None
    assert summarize([1.0, 2.0, 10.0]) == {"p50": 2.0, "p95": 10.0, "p99": 10.0, "max": 10.0}


def test_every_command_is_answered_and_handsets_send_one_at_a_time():
    clock = task.Clock()
    smsc = make_smsc(clock)
    gateway = FakeGateway(smsc, clock, ack_delay=0.1, reply_delay=lambda n: 0.4)
    runner = LoadRunner(smsc, clock, count=10, phones=2, commands="STOCK X100", timeout=5)
    report = run_to_end(runner, clock)
    assert (report.sent, report.replied, report.lost, report.late) == (10, 10, 0, 0)
    assert report.latency["p50"] == pytest.approx(0.5)
    assert report.latency_after_ack["max"] == pytest.approx(0.4)
    assert report.duration == pytest.approx(2.5)  # 5 commands in a row per handset
    assert report.throughput == pytest.approx(4.0)
    senders = [d.body.source_addr for d in gateway.seen]
    assert sorted(set(senders)) == ["13900000000", "13900000001"]
    assert smsc.phonebook.get("13900000000").inbox[0].text == "RE STOCK X100"


def test_latency_percentiles_come_from_the_measured_replies():
    clock = task.Clock()
    smsc = make_smsc(clock)
    FakeGateway(smsc, clock, reply_delay=lambda n: 0.1 * (n + 1))  # 0.1 .. 2.0 s
    runner = LoadRunner(smsc, clock, count=20, phones=20, commands="PENDING", timeout=5)
    report = run_to_end(runner, clock)
    assert report.latency["p50"] == pytest.approx(1.0)
    assert report.latency["p95"] == pytest.approx(1.9)
    assert report.latency["max"] == pytest.approx(2.0)


def test_an_unanswered_command_is_lost_and_its_late_reply_is_not_matched_to_the_next():
    clock = task.Clock()
    smsc = make_smsc(clock)
    # the first command is answered after 3 s, past the 2 s timeout; the rest at once
    FakeGateway(smsc, clock, reply_delay=lambda n: 3.0 if n == 0 else 0.1)
    runner = LoadRunner(smsc, clock, count=3, phones=1, commands="STOCK X100", timeout=2)
    report = run_to_end(runner, clock)
    assert (report.sent, report.replied, report.lost, report.late) == (3, 2, 1, 1)
    assert report.latency["max"] == pytest.approx(0.1)


def test_a_command_never_answered_counts_as_lost():
    clock = task.Clock()
    smsc = make_smsc(clock)
    FakeGateway(smsc, clock, reply_delay=lambda n: None if n % 2 else 0.2)
    runner = LoadRunner(smsc, clock, count=4, phones=4, commands="HELP", timeout=1)
    report = run_to_end(runner, clock)
    assert (report.replied, report.lost) == (2, 2)


def test_the_target_rate_spaces_the_commands():
    clock = task.Clock()
    smsc = make_smsc(clock)
    gateway = FakeGateway(smsc, clock, reply_delay=lambda n: 0.1)
    sent_at = []
    smsc.mo_listeners.append(lambda mo: sent_at.append(mo.queued_at))
    runner = LoadRunner(smsc, clock, count=4, phones=10, commands="HELP", rate=2.0, timeout=5)
    report = run_to_end(runner, clock)
    assert sent_at == pytest.approx([0.0, 0.5, 1.0, 1.5])
    assert report.duration == pytest.approx(1.6)
    assert len(gateway.seen) == 4
    # The rate offered, told apart from the answers' rate (the last reply's wait is in the duration)
    assert report.sending == pytest.approx(1.5) and report.send_rate == pytest.approx(2.0)
    assert "throughput 2.5 commands answered/s (MOs sent at 2.0/s over 1.50 s)" in format_report(report)


def test_a_weighted_mix_is_parsed_and_drawn_from():
    assert parse_mix("STOCK X100=3;PENDING=1") == [("STOCK X100", 3.0), ("PENDING", 1.0)]
    assert parse_mix("ORDER X100 5") == [("ORDER X100 5", 1.0)]
    with pytest.raises(ValueError):
        parse_mix(" ; ")
    clock = task.Clock()
    smsc = make_smsc(clock)
    gateway = FakeGateway(smsc, clock, reply_delay=lambda n: 0.0)
    runner = LoadRunner(smsc, clock, count=200, phones=5, seed=1,
                        commands=[("STOCK X100", 3.0), ("PENDING", 1.0)], timeout=5)
    run_to_end(runner, clock)
    texts = [d.body.short_message for d in gateway.seen]
    assert 120 < texts.count(b"STOCK X100") < 180 and texts.count(b"PENDING") == 200 - texts.count(b"STOCK X100")


def test_the_report_reads_as_text():
    clock = task.Clock()
    smsc = make_smsc(clock)
    FakeGateway(smsc, clock, reply_delay=lambda n: 0.25)
    report = run_to_end(LoadRunner(smsc, clock, count=4, phones=4, commands="HELP", timeout=5), clock)
    text = format_report(report)
    assert "sent 4, replied 4, lost 0" in text
    assert "throughput 16.0 commands answered/s" in text
    assert "per kind (replied/sent): HELP 4/4" in text
    assert "p50 250.0" in text


def test_wait_for_bind_fires_on_a_receiving_bind_and_times_out_without_one():
    clock = task.Clock()
    smsc = make_smsc(clock)
    bound = []
    wait_for_bind(smsc, clock, 10).addCallback(bound.append)
    FakeEsme(smsc).bind()
    assert bound == [None]
    failures = []
    wait_for_bind(make_smsc(clock), clock, 10).addErrback(failures.append)
    clock.advance(10)
    assert failures and failures[0].check(TimeoutError)


def test_the_report_gives_the_gateways_acknowledgement_times_of_this_run_only():
    clock = task.Clock()
    smsc = make_smsc(clock)
    smsc.ack_times["mo"].append(9.0)  # before the run: not this run's

    class TimedGateway(FakeGateway):
        def deliver(self, delivery):
            smsc.ack_times["mo"].append(0.1 * (len(self.seen) + 1))
            super().deliver(delivery)

    TimedGateway(smsc, clock, reply_delay=lambda n: 0.2)
    report = run_to_end(LoadRunner(smsc, clock, count=4, phones=4, commands="HELP", timeout=5), clock)
    assert report.ack_latency["p50"] == pytest.approx(0.2)
    assert report.ack_latency["max"] == pytest.approx(0.4)
    assert "gateway acknowledging a deliver_sm (MOs and receipts): p50 200.0" in format_report(report)
