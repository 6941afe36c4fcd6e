"""`merp admin export|import`: operator bulk exchange of enterprises, users, items, stock
(and `merp admin quiet-hours`, gateway/admin_quiet_hours.py).

Mounted by gateway/cli.py under `merp admin`; the work is done by erpcore.exchange, this
module only parses arguments, opens the database and prints results and errors.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_admin_commands(subparsers) -> None:
    """Add `export` and `import` to the sub-parsers of `merp admin`."""
    from erpcore.exchange import FORMATS, KINDS

    export = subparsers.add_parser("export", help="write enterprises, users, items or stock as CSV/JSON")
    export.add_argument("kind", choices=KINDS)
    export.add_argument("--url", required=True, help="SQLAlchemy database URL")
    export.add_argument("--enterprise", metavar="CODE", help="only this enterprise")
    export.add_argument("--format", choices=FORMATS, default="csv")
    export.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    export.set_defaults(func=cmd_export)

    load = subparsers.add_parser("import", help="upsert rows from a CSV/JSON file (all or nothing)")
    load.add_argument("kind", choices=KINDS)
    load.add_argument("file", help="the file to import (.json is read as JSON, anything else as CSV)")
    load.add_argument("--url", required=True, help="SQLAlchemy database URL")
    load.add_argument("--enterprise", metavar="CODE", help="refuse rows of any other enterprise")
    load.add_argument("--format", choices=FORMATS, help="override the format the file name suggests")
    load.set_defaults(func=cmd_import)

    from gateway.admin_quiet_hours import add_quiet_hours_command

    add_quiet_hours_command(subparsers)


def _session(url: str):
    from erpcore import db

    engine = db.make_engine(url)
    return engine, db.make_sessionmaker(engine)


def cmd_export(args: argparse.Namespace, stdout=None, stderr=None) -> int:
    from erpcore import exchange
    from erpcore.db import session_scope
    from erpcore.errors import ErpError

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    engine, maker = _session(args.url)
    try:
        with session_scope(maker) as session:
            rows = exchange.export_rows(session, args.kind, args.enterprise)
    except ErpError as exc:
        print(f"merp admin: {exc}", file=stderr)
        return 1
    finally:
        engine.dispose()
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as out:
            exchange.write(rows, args.kind, args.format, out)
        print(f"{len(rows)} {args.kind} written to {args.output}", file=stderr)
    else:
        exchange.write(rows, args.kind, args.format, stdout)
    return 0


def cmd_import(args: argparse.Namespace, stdout=None, stderr=None) -> int:
    from erpcore import exchange
    from erpcore.db import session_scope
    from erpcore.errors import ErpError

    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    path = Path(args.file)
    fmt = args.format or ("json" if path.suffix.lower() == ".json" else "csv")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"merp admin: cannot read {path}: {exc}", file=stderr)
        return 1
    engine, maker = _session(args.url)
    try:
        with session_scope(maker) as session:
            rows = exchange.read(text, args.kind, fmt)
            result = exchange.import_rows(session, args.kind, rows, args.enterprise)
    except exchange.ExchangeFileInvalid as exc:
        for line, message in exc.errors:
            print(f"{path}:{line}: {message}", file=stderr)
        print(f"merp admin: {path} refused, nothing imported ({len(exc.errors)} error(s))", file=stderr)
        return 1
    except ErpError as exc:
        print(f"merp admin: {exc}", file=stderr)
        return 1
    finally:
        engine.dispose()
    print(f"{args.kind}: {result.created} created, {result.updated} updated, "
          f"{result.unchanged} unchanged", file=stdout)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry (`python -m gateway.admin_cli`), the same as `merp admin`."""
    parser = argparse.ArgumentParser(prog="merp admin")
    sub = parser.add_subparsers(dest="admin_command", metavar="ACTION")
    sub.required = True
    add_admin_commands(sub)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
