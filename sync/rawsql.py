"""Fetch a Core statement's rows as the driver returns them: plain tuples, no per-value
result processing. Scans read millions of rows, and every hash on one side is built from
values read this same way, so they stay comparable."""
from __future__ import annotations

from sqlalchemy.engine import Connection


def fetch(conn: Connection, statement, values: dict | None = None, compiled=None) -> list[tuple]:
    """Rows of ``statement`` (bind ``values`` given by name), as the driver returns them."""
    if compiled is None:
        compiled = statement.compile(dialect=conn.dialect,
                                     compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params(values)
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


class Prepared:
    """A statement compiled once per dialect (and set of parameter names) and run many
    times with new values: a scan runs the same queries for every chunk of a million-row
    table, and compiling costs more than running them."""

    def __init__(self, statement):
        self.statement = statement
        self._compiled: dict = {}

    def _compile(self, conn: Connection, keys=None):
        key = (conn.dialect.name, keys)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self.statement.compile(
                dialect=conn.dialect, column_keys=None if keys is None else list(keys),
                compile_kwargs={"render_postcompile": True})
        return compiled

    def fetch(self, conn: Connection, **values) -> list[tuple]:
        return fetch(conn, self.statement, values, self._compile(conn))

    def execute_many(self, conn: Connection, rows: list[dict]) -> None:
        if rows:
            execute_many(conn, self.statement, rows, self._compile(conn, tuple(rows[0])))


def execute_many(conn: Connection, statement, rows: list[dict], compiled=None) -> None:
    """Run a Core INSERT/UPDATE/DELETE once per parameter dict through the driver's own
    executemany: compiled once, values converted by the same bind processors SQLAlchemy
    uses, without its per-row bookkeeping (the receiver writes thousands of rows a chunk).
    Binds a dict does not name keep their statement values."""
    if not rows:
        return
    if compiled is None:
        compiled = statement.compile(dialect=conn.dialect, column_keys=list(rows[0]),
                                     compile_kwargs={"render_postcompile": True})
    fixed = compiled.construct_params(rows[0], _check=False)
    for column in list(compiled.insert_prefetch) + list(compiled.update_prefetch):
        default = column.default if column in compiled.insert_prefetch else column.onupdate
        if column.key not in rows[0] and default is not None:  # Python-side defaults, once
            fixed[column.key] = default.arg if default.is_scalar else default.arg(None)
    names = list(compiled.positiontup) if compiled.positional else list(fixed)
    processors = compiled._bind_processors
    convert = [(name, processors.get(name)) for name in names]
    params = []
    for row in rows:
        values = [row[name] if name in row else fixed[name] for name in names]
        for n, (name, proc) in enumerate(convert):
            if proc is not None and values[n] is not None:
                values[n] = proc(values[n])
        params.append(tuple(values) if compiled.positional else dict(zip(names, values)))
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        cursor.executemany(compiled.string, params)
    finally:
        cursor.close()
