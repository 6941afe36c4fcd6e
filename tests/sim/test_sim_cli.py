"""`merp sim ...` options and the service the demo starts in-process."""
from __future__ import annotations

import argparse

import pytest
import pytest_twisted
from twisted.internet import defer

from sim.cli import add_sim_commands, build_smsc_service, smsc_options
from sim.outcomes import OutcomeError, parse_outcomes


def parser():
    top = argparse.ArgumentParser(prog="merp")
    sub = top.add_subparsers(dest="command")
    sim = sub.add_parser("sim")
    add_sim_commands(sim.add_subparsers(dest="sim_command"))
    return top


def test_smsc_command_defaults_match_the_documented_ones():
    args = parser().parse_args(["sim", "smsc"])
    assert (args.listen, args.system_id, args.password) == ("tcp:2775", "merp", "secret")
    assert args.control == "tcp:8025:interface=127.0.0.1"
    assert args.outcomes == {"DELIVRD": 1.0} and args.throttle_rate is None and args.fail_rate == 0
    assert callable(args.func)


def test_smsc_command_parses_its_knobs():
    args = parser().parse_args([
        "sim", "smsc", "--outcomes", "DELIVRD=0.95,UNDELIV=0.05", "--throttle-rate", "100",
        "--fail-rate", "0.1", "--receipt-delay", "2.5", "--seed", "4",
    ])
    assert args.outcomes == {"DELIVRD": 0.95, "UNDELIV": 0.05}
    assert (args.throttle_rate, args.fail_rate, args.receipt_delay, args.seed) == (100, 0.1, 2.5, 4)


def test_bad_knobs_are_refused_by_the_parser(capsys):
    for argv in (["--fail-rate", "2"], ["--outcomes", "DELIVERED=1"], ["--outcomes", "DELIVRD"]):
        with pytest.raises(SystemExit):
            parser().parse_args(["sim", "smsc", *argv])
    assert "unknown receipt state" in capsys.readouterr().err


def test_phone_and_load_commands_take_their_options():
    phone = parser().parse_args(["sim", "phone", "13800000001"])
    assert (phone.msisdn, phone.control, phone.to) == ("13800000001", "http://127.0.0.1:8025", "106571234501")
    load = parser().parse_args(["sim", "load", "--count", "10", "--phones", "2", "--rate", "5",
                                "--text", "KC X100", "--timeout", "3", "--wait-bind", "9"])
    assert (load.count, load.phones, load.rate, load.text, load.timeout, load.wait_bind) == (
        10, 2, 5.0, "KC X100", 3.0, 9.0)


def test_load_takes_teams_and_refuses_a_team_of_one_or_approve_in_the_mix(capsys):
    load = parser().parse_args(["sim", "load", "--team-size", "4", "--service-code", "1065799",
                                "--text", "ORDER X100 1=1;STOCK X100=3"])
    assert (load.team_size, load.service_code) == (4, "1065799")
    assert parser().parse_args(["sim", "load"]).team_size == 0
    for argv in (["--team-size", "1"], ["--text", "ORDER X100 1;Y 1001"],
                 ["--team-size", "4", "--phones", "1"]):
        bad = parser().parse_args(["sim", "load", *argv])
        assert bad.func(bad) == 2  # refused before any simulator starts
    err = capsys.readouterr().err
    assert "team of one" in err and "APPROVE" in err and "nobody would send" in err


def test_outcome_strings_are_checked():
    assert parse_outcomes("delivrd=3, expired=1") == {"DELIVRD": 3.0, "EXPIRED": 1.0}
    with pytest.raises(OutcomeError):
        parse_outcomes("DELIVRD=x")
    with pytest.raises(OutcomeError):
        parse_outcomes("DELIVRD=0")


def test_smsc_options_takes_overrides_and_refuses_unknown_ones():
    options = smsc_options(listen="tcp:0", control=None)
    assert options.listen == "tcp:0" and options.system_id == "merp"
    with pytest.raises(TypeError):
        smsc_options(lisen="tcp:0")


@pytest_twisted.inlineCallbacks
def test_the_service_listens_and_tells_its_port_and_control_url():
    from twisted.internet import reactor

    service = build_smsc_service(
        smsc_options(listen="tcp:0:interface=127.0.0.1", control="tcp:0:interface=127.0.0.1", fail_rate=0.5),
        reactor,
    )
    service.startService()
    try:
        yield service.when_listening()
        assert service.smpp_port() > 0
        assert service.control_url().startswith("http://127.0.0.1:")
        assert service.smsc.settings.fail_rate == 0.5
    finally:
        yield defer.maybeDeferred(service.stopService)
    assert service.smpp.port is None
