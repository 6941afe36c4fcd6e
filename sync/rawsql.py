"""Fetch a Core statement's rows as the driver returns them: plain tuples, no per-value
result processing. Scans read millions of rows, and every hash on one side is built from
values read this same way, so they stay comparable."""
from __future__ import annotations

from sqlalchemy.engine import Connection


def fetch(conn: Connection, statement) -> list[tuple]:
    compiled = statement.compile(dialect=conn.dialect,
                                 compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    processors = compiled._bind_processors
    if processors:  # bound values in the driver's terms (e.g. Decimal for SQLite REAL)
        if compiled.positional:
            params = tuple(processors[n](v) if n in processors else v
                           for n, v in zip(compiled.positiontup, params))
        else:
            params = {n: processors[n](v) if n in processors else v for n, v in params.items()}
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.execute(compiled.string, params)
        return cursor.fetchall()
    finally:
        cursor.close()
