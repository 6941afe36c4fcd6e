"""Reading and writing one synced table in canonical terms.

`TableSource` maps canonical fields onto the columns of any SQLAlchemy-reachable table
(the enterprise's own schema, or a plain table on the cluster), optionally scoped by fixed
column values (e.g. ``enterprise_id = 7``) that are also written on insert. Sources with
joins (stock levels by SKU and site code) implement the same four methods.
"""
from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import (Integer, MetaData, Table, and_, bindparam, delete, insert, or_, select,
                        update)
from sqlalchemy.engine import Connection

from sync.rawsql import execute_many, fetch
from sync.spec import SpecError, TableSpec


def keyset_after(columns: Sequence, after: tuple):
    """WHERE clause of keyset pagination: rows whose key sorts after ``after``
    (expanded OR form, which every backend plans well)."""
    clauses = []
    for i in range(len(columns)):
        parts = [columns[j] == after[j] for j in range(i)]
        parts.append(columns[i] > after[i])
        clauses.append(and_(*parts))
    return or_(*clauses)


def chunk_statement(columns: Sequence, base, pk_columns: Sequence, after: bool):
    """``base`` (a SELECT with its joins and scope) re-pointed at ``columns``, in key order,
    one chunk: bind ``_limit``, and with ``after`` the key ``_after0``, ``_after1``, ..."""
    query = base.with_only_columns(*columns)
    if after:
        query = query.where(keyset_after(
            pk_columns, [bindparam(f"_after{i}") for i in range(len(pk_columns))]))
    return query.order_by(*pk_columns).limit(bindparam("_limit", type_=Integer))


class TableSource:
    """A table whose columns carry the canonical fields, under a column mapping."""

    def __init__(self, spec: TableSpec, table: Table, mapping: dict[str, str] | None = None,
                 scope: dict[str, object] | None = None):
        mapping = mapping or {}
        self.spec = spec
        self.table = table
        self.scope = dict(scope or {})
        try:
            self.columns = [table.c[mapping.get(f, f)] for f in spec.fields]
            self.scope_columns = [(table.c[name], value) for name, value in self.scope.items()]
        except KeyError as exc:
            raise SpecError(f"table {spec.name}: {table.name} has no column {exc}") from None
        self.pk_columns = self.columns[: len(spec.pk)]
        self._order = list(self.pk_columns)
        self._select = select(*self.columns).where(*[c == v for c, v in self.scope_columns])

    @classmethod
    def reflect(cls, spec: TableSpec, connection: Connection, table_name: str,
                mapping: dict[str, str] | None = None, scope: dict | None = None) -> "TableSource":
        """A source over an existing table, its columns read from the database."""
        table = Table(table_name, MetaData(), autoload_with=connection)
        return cls(spec, table, mapping, scope)

    def read_chunk(self, conn: Connection, after: tuple | None, limit: int) -> list[tuple]:
        """Up to ``limit`` rows in primary-key order after the key ``after``."""
        query = self._select
        if after is not None:
            query = query.where(keyset_after(self.pk_columns, after))
        return fetch(conn, query.order_by(*self._order).limit(limit))

    def chunk_statement(self, fields: Sequence[int], after: bool):
        """SELECT of the fields at these positions for one keyset chunk: bind ``_limit``,
        and with ``after`` the key to start after as ``_after0``, ``_after1``, ..."""
        return chunk_statement([self.columns[i] for i in fields], self._select,
                               self.pk_columns, after)

    def read_many(self, conn: Connection, pks: Sequence[tuple]) -> dict[tuple, tuple]:
        """The rows of these primary keys (missing keys are absent from the answer)."""
        found: dict[tuple, tuple] = {}
        n = len(self.spec.pk)
        for start in range(0, len(pks), 500):
            part = pks[start:start + 500]
            if n == 1:
                cond = self.pk_columns[0].in_([p[0] for p in part])
            else:
                cond = or_(*[and_(*[c == v for c, v in zip(self.pk_columns, p)]) for p in part])
            for row in fetch(conn, self._select.where(cond)):
                found[row[:n]] = row
        return found

    def _match(self, pk: tuple):
        return and_(*[c == v for c, v in zip(self.pk_columns, pk)],
                    *[c == v for c, v in self.scope_columns])

    def upsert(self, conn: Connection, values: tuple) -> None:
        """Write the row: update it if its key is there, insert it otherwise."""
        n = len(self.spec.pk)
        data = {c.name: v for c, v in zip(self.columns, values)}
        changed = conn.execute(
            update(self.table).where(self._match(values[:n]))
            .values({k: v for k, v in data.items() if k not in {c.name for c in self.pk_columns}})
        ).rowcount
        if changed == 0 and not conn.execute(
                select(self.pk_columns[0]).where(self._match(values[:n]))).first():
            data.update({c.name: v for c, v in self.scope_columns})
            conn.execute(insert(self.table).values(data))

    def delete(self, conn: Connection, pk: tuple) -> None:
        conn.execute(delete(self.table).where(self._match(pk)))

    # -- many rows at once (the receiver knows which keys exist) ------------------------
    def _match_bound(self):
        return and_(*[c == bindparam(f"_k{i}") for i, c in enumerate(self.pk_columns)],
                    *[c == v for c, v in self.scope_columns])

    def insert_many(self, conn: Connection, rows: Sequence[tuple]) -> None:
        """Insert rows whose keys are not there (one executemany)."""
        fixed = {c.key: v for c, v in self.scope_columns}
        execute_many(conn, insert(self.table), [
            {**{c.key: v for c, v in zip(self.columns, row)}, **fixed} for row in rows])

    def update_many(self, conn: Connection, rows: Sequence[tuple]) -> None:
        """Overwrite the non-key fields of rows whose keys are there (one executemany)."""
        n = len(self.spec.pk)
        rest = self.columns[n:]
        if not rest or not rows:
            return
        statement = update(self.table).where(self._match_bound()).values(
            {c: bindparam(f"_v{i}") for i, c in enumerate(rest)})
        execute_many(conn, statement, [
            {**{f"_k{i}": v for i, v in enumerate(row[:n])},
             **{f"_v{i}": v for i, v in enumerate(row[n:])}} for row in rows])

    def delete_many(self, conn: Connection, pks: Sequence[tuple]) -> None:
        execute_many(conn, delete(self.table).where(self._match_bound()),
                     [{f"_k{i}": v for i, v in enumerate(pk)} for pk in pks])
