"""The load runner's ORDER / APPROVE / STOCK mix with teams: clerks draw from the mix,
each team's manager answers the approval requests it gets, counts are kept per kind, and
a request that never comes is reported. Against an in-process fake gateway on a
task.Clock that answers as the real one does (the texts are pinned to the real command
layer's in test_sim_load_texts)."""
from __future__ import annotations

import pytest
from twisted.internet import task

from gateway.smpp.pdu import Sm
from sim.load import LoadRunner, format_report
from sim.load_mix import Layout, command_kind, parse_mix
from sim.testing import BoundFake, make_smsc, run_to_end

SERVICE_CODE = "1065712345"


class OrderingGateway(BoundFake):
    """Stands where a bound SmscSession would. ORDER: "awaiting approval" reply, then an
    approval request to the team's manager; Y n: "approved" reply, then a decision to the
    requester; anything else: "RE <text>". Order numbers count from 1001 per team."""

    def __init__(self, smsc, clock, layout, reply_delay=0.1, request_delay=0.05, send_requests=True):
        self.clock, self.layout = clock, layout
        self.reply_delay, self.request_delay = reply_delay, request_delay
        self.send_requests = send_requests
        self.seen = []  # (sender, recipient, text)
        self.times = []  # when each of `seen` arrived
        self.orders = {}  # (team, number) -> requester
        self.next_number = {}
        super().__init__(smsc)

    def deliver(self, delivery):
        body = delivery.body
        self.clock.callLater(0, self.smsc.acknowledged, delivery)
        text = body.short_message.decode("ascii")
        self.seen.append((body.source_addr, body.destination_addr, text))
        self.times.append(self.clock.seconds())
        self.clock.callLater(self.reply_delay, self.answer, body.source_addr, body.destination_addr, text)

    def team(self, recipient):
        return int(recipient[len(SERVICE_CODE) + 1:])

    def answer(self, sender, recipient, text):
        team = self.team(recipient)
        manager = self.layout.msisdn(team * self.layout.team_size)
        words = text.split()
        if words[0] == "ORDER":
            number = str(self.next_number.get(team, 1001))
            self.next_number[team] = int(number) + 1
            self.orders[team, number] = sender
            self.send(recipient, sender, f"Order {number}: X100 x1 to HALL1, total 4,999.00, awaiting "
                                         f"manager approval. Send STATUS {number} to follow it.")
            if self.send_requests:
                self.clock.callLater(self.request_delay, self.send, recipient, manager,
                                     f"To approve: order {number} by Load 1, X100x1 4999. Reply Y {number}"
                                     f" to approve, N {number} <reason> to reject")
        elif words[0] == "Y":
            number = words[1]
            self.send(recipient, sender, f"Order {number} approved. Received at HALL1, now X100 13.")
            self.send(recipient, self.orders[team, number], f"Your order {number} was approved by Load 0.")
        else:
            self.send(recipient, sender, "RE " + text)

    def send(self, sender, recipient, text):
        self.smsc.submit(Sm(source_addr=sender, destination_addr=recipient, short_message=text.encode("ascii")))


def mixed_run(count=60, phones=8, team_size=4, **gateway_options):
    clock = task.Clock()
    smsc = make_smsc(clock)
    layout = Layout(phones, team_size=team_size, service_code=SERVICE_CODE)
    gateway = OrderingGateway(smsc, clock, layout, **gateway_options)
    runner = LoadRunner(smsc, clock, count=count, phones=phones, seed=3, timeout=5,
                        commands=parse_mix("ORDER X100 1=1;STOCK X100=3"), team_size=team_size,
                        service_code=SERVICE_CODE)
    return run_to_end(runner, clock), gateway, layout


def test_every_order_is_approved_by_its_teams_manager_and_counted_per_kind():
    report, gateway, layout = mixed_run()
    orders = [t for _, _, t in gateway.seen if t.startswith("ORDER")]
    approvals = [(s, r, t) for s, r, t in gateway.seen if t.startswith("Y ")]
    assert 5 < len(orders) < 30, "the mix draws ORDER about one time in four"
    assert report.kinds["ORDER"] == {"sent": len(orders), "replied": len(orders), "lost": 0}
    assert report.kinds["APPROVE"] == {"sent": len(orders), "replied": len(orders), "lost": 0}
    assert report.kinds["STOCK"]["replied"] == 60 - len(orders)
    assert (report.sent, report.replied, report.lost, report.unexpected) == (60 + len(orders),) * 2 + (0, 0)
    assert (report.requests, report.requests_missing) == (len(orders), 0)
    # decisions to requesters; the last may come after the last reply ended the run
    assert len(orders) - 1 <= report.notices <= len(orders)
    assert report.complete
    for sender, recipient, text in approvals:  # the manager of the requester's own team
        team = gateway.team(recipient)
        assert sender == layout.msisdn(team * 4)
        assert gateway.orders[team, text.split()[1]] != sender, "nobody approves their own order"
    assert sorted(t.split()[1] for _, r, t in approvals) == sorted(n for _, n in gateway.orders)


def test_managers_send_only_approvals_and_clerks_only_the_mix_to_their_teams_number():
    report, gateway, layout = mixed_run()
    managers = {layout.msisdn(0), layout.msisdn(4)}
    for sender, recipient, text in gateway.seen:
        index = int(sender) - int(layout.first_msisdn)
        assert recipient == f"{SERVICE_CODE}9{index // 4:04d}"
        assert (sender in managers) == (command_kind(text) == "APPROVE")


def test_a_request_that_overtakes_its_order_reply_is_still_matched():
    report, gateway, _ = mixed_run(reply_delay=0.2, request_delay=-0.15)  # request 0.05 s before
    assert report.requests == report.kinds["ORDER"]["sent"] > 0
    assert report.requests_missing == 0 and report.complete


def test_an_approval_request_that_never_comes_is_reported_missing():
    report, gateway, _ = mixed_run(count=20, send_requests=False)
    orders = report.kinds["ORDER"]["sent"]
    assert orders > 0 and "APPROVE" not in report.kinds
    assert (report.requests, report.requests_missing) == (0, orders)
    assert not report.complete
    assert f"approval requests received 0, missing {orders}" in format_report(report)


def test_a_notice_while_a_command_is_outstanding_is_not_taken_for_its_reply():
    clock = task.Clock()
    smsc = make_smsc(clock)
    layout = Layout(2, team_size=2, service_code=SERVICE_CODE)
    gateway = OrderingGateway(smsc, clock, layout, reply_delay=1.0)
    runner = LoadRunner(smsc, clock, count=1, phones=2, commands="STOCK X100", team_size=2,
                        service_code=SERVICE_CODE, timeout=5)
    clock.callLater(0.5, gateway.send, "106571234590000", layout.msisdn(1),
                    "Your order 999 was approved by Load 0.")
    report = run_to_end(runner, clock)
    assert (report.replied, report.notices, report.unexpected) == (1, 1, 0)
    assert report.latency["max"] == pytest.approx(1.0), "the reply, not the notice, ended the wait"


def test_a_manager_answers_its_requests_one_at_a_time():
    report, gateway, layout = mixed_run(count=40, phones=5, team_size=5, reply_delay=0.3)
    manager = layout.msisdn(0)
    times = [at for (sender, _, _), at in zip(gateway.seen, gateway.times) if sender == manager]
    assert report.kinds["APPROVE"]["sent"] == report.kinds["ORDER"]["sent"] == len(times) > 3
    assert min(b - a for a, b in zip(times, times[1:])) == pytest.approx(0.3), "the next Y only after the reply"
    assert report.complete


def test_the_rate_paces_approvals_with_the_mix():
    clock = task.Clock()
    smsc = make_smsc(clock)
    layout = Layout(4, team_size=4, service_code=SERVICE_CODE)
    OrderingGateway(smsc, clock, layout)
    sent_at = []
    smsc.mo_listeners.append(lambda mo: sent_at.append(mo.queued_at))
    runner = LoadRunner(smsc, clock, count=6, phones=4, commands="ORDER X100 1", team_size=4,
                        service_code=SERVICE_CODE, rate=10.0, timeout=5)
    report = run_to_end(runner, clock)
    assert report.kinds["APPROVE"]["sent"] == 6
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:])]
    assert len(sent_at) == 12 and min(gaps) >= 0.1 - 1e-9


def test_approve_is_not_drawn_from_the_mix_and_a_team_needs_a_clerk():
    with pytest.raises(ValueError, match="APPROVE"):
        parse_mix("ORDER X100 1=1;Y 1001=1")
    with pytest.raises(ValueError):
        LoadRunner(make_smsc(task.Clock()), task.Clock(), count=1, phones=4, commands="STOCK X100",
                   team_size=1)
    with pytest.raises(ValueError, match="manager"):  # one handset, a team of its own
        LoadRunner(make_smsc(task.Clock()), task.Clock(), count=1, phones=1, commands="STOCK X100",
                   team_size=4)
    assert command_kind("y 1001") == command_kind("同意 1001") == "APPROVE"
    assert command_kind("stock x100") == "STOCK"


def test_the_layout_puts_a_manager_first_in_each_team():
    layout = Layout(10, first_msisdn="13900000000", team_size=4, service_code=SERVICE_CODE)
    assert layout.teams == 3
    assert [i for i in range(10) if layout.is_manager(i)] == [0, 4, 8]
    assert layout.recipient(9) == "106571234590002"
    assert Layout(3, to="106571234501").recipient(2) == "106571234501"
    with pytest.raises(ValueError):
        Layout(10_001 * 2, team_size=2)
