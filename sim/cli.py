"""`merp sim smsc | phone | load`, mounted by gateway/cli.py, and the wiring the demo uses.

Each command sets `func(args) -> exit status`. Commands that need a reactor import it
inside the function (never at module level) and run through `task.react`.
"""
from __future__ import annotations

import argparse
import sys

from sim.outcomes import OutcomeError, parse_outcomes

DEFAULT_LISTEN = "tcp:2775"
DEFAULT_CONTROL = "tcp:8025:interface=127.0.0.1"
DEFAULT_CONTROL_URL = "http://127.0.0.1:8025"
DEFAULT_SERVICE_NUMBER = "106571234501"


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


def smsc_options(**overrides) -> argparse.Namespace:
    """The `merp sim smsc` options with their defaults, changed by keyword (e.g. listen=...)."""
    parser = argparse.ArgumentParser(add_help=False)
    _add_smsc_arguments(parser)
    options = parser.parse_args([])
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


def build_smsc_service(options, reactor=None):
    """An SMSC + control API MultiService (`sim.service.SimulatorService`) from options.

    After startService: `.smpp_port()`, `.control_url()`, `.smsc` (the live state).
    """
    if reactor is None:
        from twisted.internet import reactor
    from sim.service import build_service

    smsc = build_smsc(options, reactor)
    return build_service(smsc, reactor, options.listen, options.control or None)


# -- merp sim smsc ---------------------------------------------------------------------------


def cmd_smsc(args: argparse.Namespace) -> int:
    from twisted.internet import defer, task

    def main(reactor):
        service = build_smsc_service(args, reactor)
        service.startService()
        reactor.addSystemEventTrigger("before", "shutdown", service.stopService)

        def ready(_):
            print(f"SMSC simulator: SMPP on port {service.smpp_port()} (system_id {args.system_id!r}), "
                  f"control API {service.control_url() or 'off'}. Ctrl-C stops it.", flush=True)

        service.when_listening().addCallback(ready)
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

    try:
        commands = parse_mix(args.text)
    except ValueError as exc:
        print(f"merp sim load: {exc}", file=sys.stderr)
        return 2
    result = {"status": 1}

    @defer.inlineCallbacks
    def main(reactor):
        service = build_smsc_service(args, reactor)
        service.startService()
        try:
            yield service.when_listening()
            print(f"load: SMSC on port {service.smpp_port()}, waiting up to {args.wait_bind:g} s "
                  f"for a gateway to bind as {args.system_id!r}...", flush=True)
            try:
                yield wait_for_bind(service.smsc, reactor, args.wait_bind)
            except TimeoutError as exc:
                print(f"load: {exc}", file=sys.stderr)
                result["status"] = 2
                return
            runner = LoadRunner(service.smsc, reactor, args.count, args.phones, commands,
                                rate=args.rate, timeout=args.timeout, to=args.to, seed=args.seed)
            print(f"load: {args.count} commands from {args.phones} handsets"
                  f"{f' at {args.rate:g}/s' if args.rate else ''}...", flush=True)
            report = yield runner.run()
            print(format_report(report), flush=True)
            result["status"] = 0 if report.replied else 1
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
    load.add_argument("--count", type=int, default=1000, help="commands to send (default: %(default)s)")
    load.add_argument("--phones", type=int, default=50, help="handsets (default: %(default)s)")
    load.add_argument("--rate", type=float, default=0.0,
                      help="commands/s; 0 = as fast as replies come back (default: %(default)s)")
    load.add_argument("--text", default="STOCK X100",
                      help="command text, or a weighted mix 'STOCK X100=3;PENDING=1' (default: %(default)s)")
    load.add_argument("--to", default=DEFAULT_SERVICE_NUMBER, help="service number (default: %(default)s)")
    load.add_argument("--timeout", type=float, default=30.0,
                      help="seconds to wait for each reply (default: %(default)s)")
    load.add_argument("--wait-bind", type=float, default=60.0,
                      help="seconds to wait for the gateway to bind (default: %(default)s)")
    load.set_defaults(func=cmd_load)
