"""`merp sim smsc | phone | load`, mounted by gateway/cli.py, and the wiring the demo uses.

Each command sets `func(args) -> exit status`. Commands that need a reactor import it
inside the function (never at module level) and run through `task.react`.
"""
from __future__ import annotations

import argparse
import sys

from gateway import heap
from sim.outcomes import OutcomeError, parse_outcomes

DEFAULT_LISTEN = "tcp:2775"
DEFAULT_CONTROL = "tcp:8025:interface=127.0.0.1"
DEFAULT_CONTROL_URL = "http://127.0.0.1:8025"
DEFAULT_SERVICE_NUMBER = "106571234501"
DEFAULT_CMPP_LISTEN = "tcp:7890"


def _outcomes(text: str) -> dict:
    try:
        return parse_outcomes(text)
    except OutcomeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return value


def _add_smsc_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default=DEFAULT_LISTEN, help="SMPP endpoint (default: %(default)s)")
    parser.add_argument("--control", default=DEFAULT_CONTROL,
                        help="control API endpoint, or '' for none (default: %(default)s)")
    parser.add_argument("--system-id", default="merp", help="system_id an ESME must bind with")
    parser.add_argument("--password", default="secret", help="password an ESME must bind with")
    parser.add_argument("--receipt-delay", type=float, default=1.0,
                        help="seconds from submit to delivery receipt (default: %(default)s)")
    parser.add_argument("--outcomes", type=_outcomes, default={"DELIVRD": 1.0},
                        help="receipt outcome mix, e.g. DELIVRD=0.95,UNDELIV=0.05 (default: all DELIVRD)")
    parser.add_argument("--throttle-rate", type=float, default=None,
                        help="submits/s above which ESME_RTHROTTLED is answered (default: no limit)")
    parser.add_argument("--fail-rate", type=_fraction, default=0.0,
                        help="fraction of submits refused with ESME_RSUBMITFAIL (default: 0)")
    parser.add_argument("--window", type=int, default=10,
                        help="deliver_sm in flight toward one ESME (default: %(default)s)")
    parser.add_argument("--ids", choices=("hex", "dec"), default="hex", help="message id style")
    parser.add_argument("--seed", type=int, default=None, help="random seed (outcomes, failures, ids)")
    cmpp = parser.add_argument_group("ISMG (CMPP 2.0/3.0) beside the SMSC, same handsets")
    cmpp.add_argument("--cmpp-listen", default=DEFAULT_CMPP_LISTEN,
                      help="CMPP endpoint of the simulated ISMG, or '' for none (default: %(default)s)")
    cmpp.add_argument("--sp-id", default="901234", help="SP id a CMPP client must connect with")
    cmpp.add_argument("--shared-secret", default="secret", help="shared secret of that SP")
    cmpp.add_argument("--cmpp-window", type=int, default=16,
                      help="unanswered SUBMITs per connection before Result 8 (default: %(default)s)")


def smsc_options(**overrides) -> argparse.Namespace:
    """The `merp sim smsc` options with their defaults, changed by keyword (e.g. listen=...)."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_smsc_arguments(parser)
    options = parser.parse_args([])
    options.cmpp_listen = ""  # built in code: the ISMG only when asked for (no fixed port)
    for name, value in overrides.items():
        if not hasattr(options, name):
            raise TypeError(f"unknown simulator option {name!r}")
        setattr(options, name, value)
    return options


def build_smsc(options, clock):
    from sim.smsc import Smsc, SmscSettings

    settings = SmscSettings(
        system_id=options.system_id,
        password=options.password,
        receipt_delay=options.receipt_delay,
        outcomes=dict(options.outcomes),
        throttle_rate=options.throttle_rate,
        fail_rate=options.fail_rate,
        window=options.window,
        id_style=options.ids,
        seed=options.seed,
    )
    return Smsc(clock, settings)


def build_ismg(options, clock, phonebook):
    """The simulated ISMG, sharing the SMSC's handsets and its receipt/outcome options."""
    from sim.ismg import Ismg, IsmgSettings

    settings = IsmgSettings(
        sp_id=options.sp_id,
        shared_secret=options.shared_secret,
        submit_window=options.cmpp_window,
        receipt_delay=options.receipt_delay,
        outcomes=dict(options.outcomes),
        throttle_rate=options.throttle_rate,
        fail_rate=options.fail_rate,
        window=options.window,
        seed=options.seed,
    )
    return Ismg(clock, settings, phonebook)


def build_smsc_service(options, reactor=None):
    """An SMSC + control API (+ ISMG when cmpp_listen) MultiService from options.

    After startService: `.smpp_port()`, `.cmpp_port()`, `.control_url()`, `.smsc` and
    `.ismg` (the live states; `.ismg` is None without cmpp_listen).
    """
    if reactor is None:
        from twisted.internet import reactor
    from sim.service import build_service

    smsc = build_smsc(options, reactor)
    cmpp_listen = getattr(options, "cmpp_listen", "") or None
    ismg = build_ismg(options, reactor, smsc.phonebook) if cmpp_listen else None
    return build_service(smsc, reactor, options.listen, options.control or None, ismg, cmpp_listen)


# -- merp sim smsc ---------------------------------------------------------------------------


def cmd_smsc(args: argparse.Namespace) -> int:
    from twisted.internet import defer, task

    def main(reactor):
        service = build_smsc_service(args, reactor)
        service.startService()
        reactor.addSystemEventTrigger("before", "shutdown", service.stopService)

        def ready(_):
            cmpp = (f"CMPP on port {service.cmpp_port()} (sp_id {args.sp_id!r}), "
                    if service.cmpp_port() else "")
            print(f"SMSC simulator: SMPP on port {service.smpp_port()} (system_id {args.system_id!r}), "
                  f"{cmpp}control API {service.control_url() or 'off'}. Ctrl-C stops it.", flush=True)

        service.when_listening().addCallback(ready)
        heap.settle()
        return defer.Deferred()  # runs until Ctrl-C

    return _react(task, main)


# -- merp sim phone ----------------------------------------------------------------------------


def cmd_phone(args: argparse.Namespace) -> int:
    from sim.phone import run_phone

    return run_phone(args.msisdn, args.control, args.to, sys.stdin, sys.stdout)


# -- merp sim load -----------------------------------------------------------------------------


def cmd_load(args: argparse.Namespace) -> int:
    from twisted.internet import defer, task

    from sim.load import LoadRunner, format_report, parse_mix, wait_for_bind
    from sim.load_mix import Layout

    try:
        commands = parse_mix(args.text)
        Layout(args.phones, team_size=args.team_size)  # refuses a layout nobody could run
    except ValueError as exc:
        print(f"merp sim load: {exc}", file=sys.stderr)
        return 2
    result = {"status": 1}

    @defer.inlineCallbacks
    def main(reactor):
        if args.protocol == "smpp":
            args.cmpp_listen = ""  # one centre for the gateway to find
        elif not args.cmpp_listen:
            print("merp sim load: --protocol cmpp needs --cmpp-listen", file=sys.stderr)
            result["status"] = 2
            return
        service = build_smsc_service(args, reactor)
        service.startService()
        try:
            yield service.when_listening()
            centre = service.smsc if args.protocol == "smpp" else service.ismg
            where = (f"SMSC on port {service.smpp_port()}" if args.protocol == "smpp"
                     else f"ISMG on port {service.cmpp_port()}")
            who = args.system_id if args.protocol == "smpp" else args.sp_id
            print(f"load: {where}, waiting up to {args.wait_bind:g} s "
                  f"for a gateway to bind as {who!r}...", flush=True)
            try:
                yield wait_for_bind(centre, reactor, args.wait_bind)
            except TimeoutError as exc:
                print(f"load: {exc}", file=sys.stderr)
                result["status"] = 2
                return
            runner = LoadRunner(centre, reactor, args.count, args.phones, commands,
                                rate=args.rate, timeout=args.timeout, to=args.to, seed=args.seed,
                                team_size=args.team_size, service_code=args.service_code)
            teams = (f" in {runner.layout.teams} teams of {args.team_size} (a manager each)"
                     if args.team_size else "")
            print(f"load: {args.count} commands from {args.phones} handsets{teams}"
                  f"{f' at {args.rate:g}/s' if args.rate else ''}...", flush=True)
            heap.settle()
            report = yield runner.run()
            print(format_report(report), flush=True)
            result["status"] = 0 if report.replied and report.complete else 1
        finally:
            yield service.stopService()

    _react(task, main)
    return result["status"]


def _react(task, main) -> int:
    try:
        task.react(main)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def add_sim_commands(subparsers) -> None:
    """Add smsc, phone and load to the `merp sim` sub-command parsers."""
    smsc = subparsers.add_parser("smsc", help="run the SMS centre simulator (SMPP server + control API)")
    _add_smsc_arguments(smsc)
    smsc.set_defaults(func=cmd_smsc)

    phone = subparsers.add_parser("phone", help="be a handset at the terminal")
    phone.add_argument("msisdn", help="the handset's number, e.g. 13800000001")
    phone.add_argument("--control", default=DEFAULT_CONTROL_URL,
                       help="simulator control API URL (default: %(default)s)")
    phone.add_argument("--to", default=DEFAULT_SERVICE_NUMBER,
                       help="service number to send to (default: %(default)s)")
    phone.set_defaults(func=cmd_phone)

    load = subparsers.add_parser("load", help="start an SMSC, wait for a gateway, run a load and report")
    _add_smsc_arguments(load)
    load.add_argument("--protocol", choices=("smpp", "cmpp2", "cmpp3"), default="smpp",
                      help="the gateway connects by SMPP (to the SMSC) or CMPP (to the ISMG)")
    load.add_argument("--count", type=int, default=1000, help="commands to send (default: %(default)s)")
    load.add_argument("--phones", type=int, default=50, help="handsets (default: %(default)s)")
    load.add_argument("--rate", type=float, default=0.0,
                      help="commands/s; 0 = as fast as replies come back (default: %(default)s)")
    load.add_argument("--text", default="STOCK X100",
                      help="command text, or a weighted mix 'STOCK X100=3;PENDING=1' (default: %(default)s)")
    load.add_argument("--to", default=DEFAULT_SERVICE_NUMBER,
                      help="service number, without teams (default: %(default)s)")
    load.add_argument("--team-size", type=int, default=0, metavar="T",
                      help="handsets in teams of T, each its own enterprise (as `merp db seed-demo "
                           "--load-team-size T` seeds them): the first of a team is its manager and "
                           "answers approval requests with Y <no>; 0 = no teams (default: %(default)s)")
    load.add_argument("--service-code", default="1065712345",
                      help="with teams: the service code before each team's extension (default: %(default)s)")
    load.add_argument("--timeout", type=float, default=30.0,
                      help="seconds to wait for each reply (default: %(default)s)")
    load.add_argument("--wait-bind", type=float, default=60.0,
                      help="seconds to wait for the gateway to bind (default: %(default)s)")
    load.set_defaults(func=cmd_load)
