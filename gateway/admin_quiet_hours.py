"""`merp admin quiet-hours CODE`: show or set an enterprise's own quiet hours and UTC offset.

Without options it prints what applies; ``--start/--end`` set its own window (local time),
``--off`` none at all, ``--default`` the gateway's ``[notify]`` window again;
``--utc-offset +08:00`` (or ``default``) its local time. The work is erpcore.tenants';
this module parses arguments, opens the database and prints results and errors.
"""
from __future__ import annotations

import argparse
import sys

NO_QUIET_HOURS = ("00:00", "00:00")  # equal start and end: no quiet hours at all


def add_quiet_hours_command(subparsers) -> None:
    """Add `quiet-hours` to the sub-parsers of `merp admin`."""
    parser = subparsers.add_parser(
        "quiet-hours", help="show or set an enterprise's quiet hours and UTC offset",
        description="Non-urgent SMS notifications (alerts, approval requests) wait during an "
                    "enterprise's quiet hours; unset values follow the gateway's [notify] section. "
                    "A running gateway applies a change within 30 seconds.",
    )
    parser.add_argument("enterprise", metavar="CODE", help="the enterprise's code, e.g. DEMO")
    parser.add_argument("--url", required=True, help="SQLAlchemy database URL")
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--start", metavar="HH:MM", help="start of its quiet hours, local time (with --end)")
    window.add_argument("--off", action="store_true", help="no quiet hours for this enterprise")
    window.add_argument("--default", action="store_true", help="the gateway's quiet hours again")
    parser.add_argument("--end", metavar="HH:MM", help="end of its quiet hours, local time")
    parser.add_argument("--utc-offset", metavar="±HH:MM",
                        help="its local time as hours east of UTC, e.g. +08:00; 'default' for the gateway's")
    parser.set_defaults(func=cmd_quiet_hours)


def cmd_quiet_hours(args: argparse.Namespace, stdout=None, stderr=None) -> int:
    from erpcore import db, services, tenants
    from erpcore.errors import ErpError

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    if args.end is not None and args.start is None:
        print("merp admin: --end needs --start (both, local time HH:MM)", file=stderr)
        return 2
    engine = db.make_engine(args.url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            enterprise = services.get_enterprise_by_code(session, args.enterprise)
            if args.start is not None or args.off or args.default:
                start, end = ((args.start, args.end) if args.start is not None
                              else NO_QUIET_HOURS if args.off else (None, None))
                tenants.set_quiet_hours(session, enterprise.id, start, end)
            if args.utc_offset is not None:
                offset = None if args.utc_offset.strip().lower() == "default" else args.utc_offset
                tenants.set_utc_offset(session, enterprise.id, offset)
            shown = describe(enterprise.code, tenants.quiet_settings(enterprise))
    except ErpError as exc:
        print(f"merp admin: {exc}", file=stderr)
        return 1
    finally:
        engine.dispose()
    print(shown, file=stdout)
    return 0


def describe(code: str, settings: dict) -> str:
    """``DEMO: quiet hours 23:00-07:00, local time UTC+08:00`` in words an operator reads."""
    start, end, offset = settings["quiet_start"], settings["quiet_end"], settings["utc_offset"]
    if start is None:
        window = "the gateway's quiet hours"
    elif start == end:
        window = "no quiet hours"
    else:
        window = f"quiet hours {start}-{end}"
    local = f"UTC{offset}" if offset is not None else "the gateway's UTC offset"
    return f"{code}: {window}, local time {local}"
