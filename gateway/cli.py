"""The one console entry point, `merp`, and its sub-commands."""
from __future__ import annotations

import argparse
import sys

from gateway.config import ConfigError

DEMO_INTRO = """\
merp demo is running on localhost.

  store       {database}
  SMS centre  simulator, SMPP on {smpp}, control API on {control_url}
  metrics     {web}/metrics
  operator    {web}/console/  (operator console; sign in with the token {operator_token})
  enterprise  DEMO (演示企业), service number {service_number}

In a second terminal, be a field clerk on a handset:

    merp sim phone 13800000001

and type, for example:

    STOCK X100        stock of item X100 at your site
    KC X100 WH1       the same with the pinyin alias, at the central warehouse
    库存 N200          in Chinese
    ORDER X100 2      order two handsets; the reply gives the order number (1001)
    HELP              what you can send

The order waits for the manager. Be the manager in a third terminal:

    merp sim phone 13800000002      (English; told of the order by SMS, with a WAP link)
    Y 1001                          approve it (N 1001 <reason> rejects); PENDING lists

or approve on the WAP pages at {web}/wap/ (enterprise DEMO, user smith, password
demo-smith). 13800000003 is a storekeeper at WH1, 13800000006 finance (orders of 10,000
and more need them too). Stop the demo with Ctrl-C.
"""


def _add_db_url(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--url", help="SQLAlchemy database URL (e.g. sqlite:///merp.db)")
    group.add_argument("-c", "--config", help="take the database URL from this merp.ini")


def _database_url(args: argparse.Namespace) -> str:
    from gateway import config

    if args.url:
        return args.url
    if args.config:
        return config.load(args.config).gateway.database
    return config.GatewaySection().database


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from erpcore import db

    url = _database_url(args)
    db.upgrade(url)
    print(f"database {db.describe(url)} is at the newest schema")
    return 0


def cmd_db_seed_demo(args: argparse.Namespace) -> int:
    from erpcore import db, demo

    url = _database_url(args)
    db.upgrade(url)
    engine = db.make_engine(url)
    try:
        with db.session_scope(db.make_sessionmaker(engine)) as session:
            demo.seed_demo(session)
            demo.set_demo_passwords(session)
            added = (demo.seed_load_users(session, args.load_phones, team_size=args.load_team_size)
                     if args.load_phones else 0)
    finally:
        engine.dispose()
    print(f"demo enterprise seeded in {db.describe(url)}")
    if args.load_phones:
        print(f"{added} load handsets bound from {demo.LOAD_FIRST_MSISDN} (as `merp sim load` numbers them)")
        if args.load_team_size:
            print(f"in teams of {args.load_team_size}, each an enterprise whose first handset is its manager")
    return 0


def cmd_config_example(args: argparse.Namespace) -> int:
    from gateway import config

    print(config.example())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from gateway import config, runner

    cfg = config.load(args.config)
    if not cfg.links:
        raise ConfigError(f"{args.config}: no [link:NAME] section; the gateway needs an SMS centre")
    return runner.run_gateway(cfg, upgrade=not args.no_upgrade)


def cmd_demo(args: argparse.Namespace) -> int:
    from gateway import runner

    return runner.run_demo(args, DEMO_INTRO)


def cmd_sim_default(args: argparse.Namespace) -> int:
    from sim.cli import cmd_smsc, smsc_options

    return cmd_smsc(smsc_options(cmpp_listen="tcp:7890"))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="merp",
        description="merp: mobile ERP messaging gateway (SMS commands, WAP approvals, ERP sync)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser("demo", help="gateway + SMS centre simulator + demo enterprise on localhost")
    demo.add_argument("--db", default="merp-demo.db", help="SQLite file for the demo (default: %(default)s)")
    demo.add_argument("--smpp", default="tcp:2775:interface=127.0.0.1", help="simulator SMPP listen endpoint")
    demo.add_argument("--control", default="tcp:8025:interface=127.0.0.1", help="simulator control API endpoint")
    demo.add_argument("--web", default="tcp:8080:interface=127.0.0.1", help="gateway web server endpoint (/metrics)")
    demo.add_argument("--operator-token", default="", metavar="TOKEN",
                      help="token of the operator console (/console/, /api); default: a random one, printed")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run the gateway with a config file")
    run.add_argument("-c", "--config", default="merp.ini", help="configuration file (default: %(default)s)")
    run.add_argument("--no-upgrade", action="store_true", help="do not migrate the database on start")
    run.set_defaults(func=cmd_run)

    dbp = sub.add_parser("db", help="prepare a database")
    dbsub = dbp.add_subparsers(dest="db_command", metavar="ACTION")
    dbsub.required = True
    up = dbsub.add_parser("upgrade", help="migrate the schema to the newest version")
    _add_db_url(up)
    up.set_defaults(func=cmd_db_upgrade)
    seed = dbsub.add_parser("seed-demo", help="migrate, then add the demo enterprise (idempotent)")
    _add_db_url(seed)
    seed.add_argument("--load-phones", type=int, default=0, metavar="M",
                      help="also bind M handsets from 13900000000 as users, for `merp sim load`")
    seed.add_argument("--load-team-size", type=int, default=0, metavar="T",
                      help="put the load handsets in teams of T, each its own enterprise whose first "
                           "handset is the manager who approves the others' orders (default: all "
                           "clerks of the demo enterprise)")
    seed.set_defaults(func=cmd_db_seed_demo)

    cfg = sub.add_parser("config", help="configuration helpers")
    cfgsub = cfg.add_subparsers(dest="config_command", metavar="ACTION")
    cfgsub.required = True
    ex = cfgsub.add_parser("example", help="print an annotated merp.ini with every option")
    ex.set_defaults(func=cmd_config_example)

    from gateway.admin_cli import add_admin_commands
    from sim.cli import add_sim_commands

    admin = sub.add_parser("admin", help="import and export enterprises, users, items, stock")
    add_admin_commands(admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True))

    from sync.agent import add_agent_command

    add_agent_command(sub)

    simp = sub.add_parser(
        "sim", help="SMS centre simulator, handset console, load runner",
        description="With no ACTION: the SMSC (SMPP, tcp:2775) and the ISMG (CMPP, tcp:7890) "
                    "together, as `merp sim smsc` with its defaults.")
    add_sim_commands(simp.add_subparsers(dest="sim_command", metavar="ACTION"))
    simp.set_defaults(func=cmd_sim_default)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except ConfigError as exc:
        print(f"merp: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
