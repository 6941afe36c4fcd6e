"""Scans: compare the ERP table with the mirror of the peer's copy, chunk by chunk, and
mark what changed locally (insert, update, delete) as dirty for the sender.

A full scan fingerprints every field; a fast scan only the key fields (cheaper, run often).
A `Scanner` does one chunk per `step`: one keyset query on the table and one range query on
the mirror's keys and stored fingerprints, so the daemons run each chunk as its own unit of
database work and whatever else waits for the database goes between two chunks. Where the
two orders disagree (collations) point look-ups settle it, so a scan never reports a false
delete.

Where a full scan's time goes (1,000,000 rows, profiled with callgrind): the driver turning
rows into Python objects, fingerprinting them, and, when the mirror was joined row by row,
an index seek per row. So a chunk fetches only the fields it fingerprints, reads the
mirror's range sequentially (key and one fingerprint), hashes the chunk in C
(`spec.row_hashes`), and only rows that differ reach Python code. On SQLite the mirror's
range comes back packed, as one row of joined texts (`_packed`): the driver's per-row
cost (a step with the GIL let go and taken again, a lock per column, a tuple and its
strings) was then the largest part of reading the mirror.
"""
from __future__ import annotations

import operator
import time
from dataclasses import dataclass
from itertools import compress, filterfalse
from operator import ne

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from sync.clock import utc_now
from sync.models import CONFIRMED, DIRTY, SENT, MirrorRow
from sync.rawsql import Prepared
from sync.spec import decode_pk, encode_pk, row_hash, row_hashes

FULL = "full"
FAST = "fast"
TOMBSTONE_HASH = "-"
PACK_SEPARATOR = "\x1e"  # joins a packed mirror range: not the composite keys' "\x1f"
M = MirrorRow.__table__
FIRST, SECOND = operator.itemgetter(0), operator.itemgetter(1)


@dataclass
class ScanReport:
    rows: int = 0
    inserts: int = 0
    updates: int = 0
    deletes: int = 0
    chunks: int = 0

    @property
    def changes(self) -> int:
        return self.inserts + self.updates + self.deletes


def key_of(spec):
    """Picks the key fields out of a full row (C-level itemgetter, a tuple always)."""
    index = spec.key_index
    if len(index) == 1:
        one = operator.itemgetter(index[0])
        return lambda row: (one(row),)
    return operator.itemgetter(*index)


_MIRROR = select(M.c.id, M.c.pk, M.c.row_hash, M.c.key_hash, M.c.tombstone, M.c.flag)


def _mirror_exact(conn, scope, table, pks):
    """The mirror rows of these keys (few: rows that changed), by key. Through SQLAlchemy,
    whose statement cache compiles the query once whatever the number of keys."""
    found = {}
    for start in range(0, len(pks), 500):
        query = _MIRROR.where(M.c.scope == scope, M.c.table_name == table,
                              M.c.pk.in_(pks[start:start + 500]))
        found.update({r[1]: r for r in conn.execute(query)})
    return found


class Scanner:
    """One scan of one table against its mirror, a chunk per `step`.

    ``step(conn)`` reads, compares and marks one chunk in the caller's transaction and
    returns False once the scan is over. The scanner keeps only its position, its compiled
    queries and its counts between steps, so each step may run in its own transaction, on
    any thread, one after the other."""

    def __init__(self, source, scope: str, mode: str = FULL, chunk: int = 5000,
                 now_ms: int | None = None, report: ScanReport | None = None):
        if mode not in (FULL, FAST):
            raise ValueError(f"scan mode {mode!r}: use {FULL!r} or {FAST!r}")
        self.source = source
        self.spec = spec = source.spec
        self.scope = scope
        self.mode = mode
        self.chunk = chunk
        self.now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        self.report = report if report is not None else ScanReport()
        self.after: tuple | None = None   # the table's last key read
        self.lo_text: str | None = None   # the mirror's last key read
        self.tail = False                 # the table is done; mirror rows after it remain
        self.done = False
        # Fetch the fingerprinted fields (all, or the key fields), then any key field they
        # lack; a row's first `width` values are what its fingerprint covers.
        hashed = list(range(len(spec.fields))) if mode == FULL else list(spec.key_index)
        npk = len(spec.pk)
        fetched = hashed + [i for i in range(npk) if i not in hashed]
        self.width = len(hashed)
        self.extra_keys = len(fetched) > len(hashed)  # rows to cut to `width` before hashing
        self.pk_at = [fetched.index(i) for i in range(npk)]
        self.text_of = (operator.itemgetter(self.pk_at[0]) if spec.pk_types == ("str",)
                        else self._encoded_key)
        self.keys_of = key_of(spec) if mode == FULL else None
        self.first_query = Prepared(source.chunk_statement(fetched, after=False))
        self.next_query = Prepared(source.chunk_statement(fetched, after=True))
        stored = M.c.row_hash if mode == FULL else M.c.key_hash
        base = select(M.c.pk, stored).where(M.c.scope == scope, M.c.table_name == spec.name)
        lo, hi = M.c.pk > bindparam("_lo"), M.c.pk <= bindparam("_hi")
        self.mirror_queries = {
            (False, True): Prepared(base.where(hi).order_by(M.c.pk)),
            (True, True): Prepared(base.where(lo, hi).order_by(M.c.pk)),
            "tail": Prepared(base.where(lo).order_by(M.c.pk).limit(bindparam("_limit"))),
            "tail_first": Prepared(base.order_by(M.c.pk).limit(bindparam("_limit"))),
        }
        self.packed_queries = {after: _packed(scope, spec.name, stored, after)
                               for after in (False, True)}

    def _encoded_key(self, row) -> str:
        return encode_pk(self.spec, tuple(row[i] for i in self.pk_at))

    def _key(self, row) -> tuple:
        return tuple(row[i] for i in self.pk_at)

    def step(self, conn: Connection) -> bool:
        """Scan the next chunk; True while there is more to scan."""
        if self.done:
            return False
        more = self._tail_chunk(conn) if self.tail else self._table_chunk(conn)
        self.report.chunks += 1
        self.done = not more
        return more

    def _table_chunk(self, conn) -> bool:
        if self.after is None:
            rows = self.first_query.fetch(conn, _limit=self.chunk)
        else:
            rows = self.next_query.fetch(conn, _limit=self.chunk, **{
                f"_after{i}": v for i, v in enumerate(self.after)})
        last = len(rows) < self.chunk
        texts = list(map(self.text_of, rows))
        hi_text = None if last else texts[-1]
        fresh = row_hashes([r[:self.width] for r in rows] if self.extra_keys else rows)
        stored, mirror, known, looked_up = None, None, {}, set()
        if not last and conn.dialect.name == "sqlite":
            stored = self._stored_packed(conn, texts, hi_text, fresh)
        if stored is None:
            stored, mirror, known, looked_up = self._stored_by_rows(conn, texts, last, hi_text)
        differ = [] if stored is fresh else list(
            compress(zip(texts, rows, fresh), map(ne, fresh, stored)))
        if differ:
            self._mark_differing(conn, differ, known, looked_up)
        if mirror is not None and len(mirror) > len(texts) - stored.count(None):  # deletes?
            seen = set(texts)
            gone = [t for t, fp in mirror.items() if fp != TOMBSTONE_HASH and t not in seen]
            if gone:
                self._confirm_deletes(conn, gone)
        self.report.rows += len(rows)
        if last:
            self.tail = self.tail_more
            return self.tail
        self.after = self._key(rows[-1])
        self.lo_text = hi_text
        return True

    def _stored_by_rows(self, conn, texts: list[str], last: bool, hi_text: str | None):
        """The mirror's fingerprints of this chunk in the table's order, its range read as
        (key, fingerprint) rows; where the keys differ, also the range by key (to find
        deletes) and the rows looked up by key, with the keys looked up."""
        if last:  # the mirror's rows after the table's last key are read in the tail
            pairs = self._mirror_tail(conn, first=self.lo_text is None)
        else:
            pairs = self.mirror_queries[(self.lo_text is not None, True)].fetch(
                conn, _lo=self.lo_text, _hi=hi_text)
        if list(map(FIRST, pairs)) == texts:  # the same keys in the same order: most chunks
            return list(map(SECOND, pairs)), None, {}, set()
        mirror = dict(pairs)
        known, looked_up = {}, set()
        missing = list(filterfalse(mirror.__contains__, texts))
        if missing:  # new rows, or an order the two sides disagree on
            known = _mirror_exact(conn, self.scope, self.spec.name, missing)
            looked_up = set(missing)
            at = 2 if self.mode == FULL else 3
            mirror.update({text: m[at] for text, m in known.items()})
        return list(map(mirror.get, texts)), mirror, known, looked_up

    def _stored_packed(self, conn, texts: list[str], hi_text: str, fresh: list[str]):
        """The mirror's fingerprints of this chunk's key range in the table's order (
        ``fresh`` itself when they all agree), or None unless its keys are exactly
        ``texts``. One packed row (`_packed`): SQLite walks the range in C, with none of
        the driver's per-row steps, locks and objects that were most of reading the mirror."""
        count, keys, hashes = self.packed_queries[self.lo_text is not None].fetch(
            conn, _lo=self.lo_text, _hi=hi_text)[0]
        joined = PACK_SEPARATOR.join(texts)
        # Equal texts with n - 1 separators on our side: no key holds one, so the
        # mirror's n keys split exactly as ours do.
        if (count != len(texts) or keys != joined or hashes is None
                or joined.count(PACK_SEPARATOR) != count - 1):
            return None
        if hashes == PACK_SEPARATOR.join(fresh):  # nothing changed in the chunk
            return fresh
        stored = hashes.split(PACK_SEPARATOR)
        return stored if len(stored) == count else None

    def _mirror_tail(self, conn, first: bool) -> list[tuple]:
        """Up to two chunks of the mirror's (key, fingerprint) after ``lo_text``, in key
        order; ``tail_more`` says whether there may be more."""
        limit = 2 * self.chunk
        if first:
            rows = self.mirror_queries["tail_first"].fetch(conn, _limit=limit)
        else:
            rows = self.mirror_queries["tail"].fetch(conn, _lo=self.lo_text, _limit=limit)
        self.tail_more = len(rows) == limit
        if rows:
            self.lo_text = rows[-1][0]
        return rows

    def _tail_chunk(self, conn) -> bool:
        """Mirror rows after the table's last key: deletes, unless a point look-up finds
        the row after all (an order the two sides disagree on)."""
        gone = [t for t, fp in self._mirror_tail(conn, first=False) if fp != TOMBSTONE_HASH]
        if gone:
            self._confirm_deletes(conn, gone)
        return self.tail_more

    def _mark_differing(self, conn, differ, known, looked_up):
        """Rows whose fingerprint is not the mirror's: new, changed, or back after a
        delete (a tombstone's fingerprint is never a row's)."""
        spec, width = self.spec, self.width
        need = [text for text, _, _ in differ if text not in known and text not in looked_up]
        if need:
            known = {**known, **_mirror_exact(conn, self.scope, spec.name, need)}
        inserts, updates = [], []
        for text, row, fingerprint in differ:
            if self.mode == FULL:
                full, key = fingerprint, row_hash(self.keys_of(row[:width]))
            else:
                full, key = None, fingerprint  # the whole row's hash is read in _write
            m = known.get(text)
            if m is None:
                inserts.append((text, self._key(row), full, key))
            else:
                updates.append((m, text, self._key(row), full, key))
        self._write(conn, inserts, updates)

    # -- marking -----------------------------------------------------------------------
    def _write(self, conn, inserts, updates):
        """Mark new and changed rows dirty. Each entry carries its key tuple and, in a
        fast scan, no whole-row hash yet: those are read here, one query a chunk."""
        if not inserts and not updates:
            return
        spec, report = self.spec, self.report
        need = [pk for _, pk, full, _ in inserts if full is None]
        need += [pk for _, _, pk, full, _ in updates if full is None]
        fulls = {}
        if need:
            fulls = {pk: row_hash(row) for pk, row in self.source.read_many(conn, need).items()}
        now = utc_now()
        if inserts:
            _INSERT.execute_many(conn, [
                {"scope": self.scope, "table_name": spec.name, "pk": text,
                 "row_hash": full or fulls.get(pk, TOMBSTONE_HASH), "key_hash": key,
                 "version": 0, "tombstone": False, "flag": DIRTY, "force": False,
                 "changed_ms": self.now_ms, "updated_at": now}
                for text, pk, full, key in inserts])
            report.inserts += len(inserts)
        params = []
        for m, text, pk, full, key in updates:
            full = full or fulls.get(pk, TOMBSTONE_HASH)
            if not m[4] and (m[2] == full if self.mode == FULL else m[3] == key):
                continue  # the same row after all
            if m[4]:
                report.inserts += 1  # back after a delete
            else:
                report.updates += 1
            params.append({"_id": m[0], "row_hash": full, "key_hash": key, "tombstone": False,
                           "flag": _dirty(m[5]), "changed_ms": self.now_ms, "updated_at": now})
        _mark(conn, params)

    def _confirm_deletes(self, conn, texts):
        """Tombstone the mirror rows of these keys whose rows the table does not have."""
        spec = self.spec
        still_there = self.source.read_many(conn, [decode_pk(spec, t) for t in texts])
        there = {encode_pk(spec, pk) for pk in still_there}
        gone = [t for t in texts if t not in there]
        if not gone:
            return
        now = utc_now()
        mirror = _mirror_exact(conn, self.scope, spec.name, gone)
        _mark(conn, [
            {"_id": m[0], "row_hash": TOMBSTONE_HASH, "key_hash": TOMBSTONE_HASH,
             "tombstone": True, "flag": _dirty(m[5]), "changed_ms": self.now_ms,
             "updated_at": now}
            for m in mirror.values() if not m[4]])
        self.report.deletes += sum(1 for m in mirror.values() if not m[4])

def scan(conn: Connection, source, scope: str, mode: str = FULL, chunk: int = 5000,
         now_ms: int | None = None) -> ScanReport:
    """Compare ``source`` with its mirror under ``scope`` and mark differences dirty, all
    in the caller's transaction (`Side.scan_step` runs a chunk per transaction)."""
    scanner = Scanner(source, scope, mode, chunk, now_ms)
    while scanner.step(conn):
        pass
    return scanner.report


def _packed(scope: str, table: str, stored, after: bool) -> Prepared:
    """One row for the mirror's key range (``_lo``, ``_hi``]: its count, its keys and its
    ``stored`` fingerprints, each joined by PACK_SEPARATOR in the order SQLite walked the
    range. No ORDER BY: that costs a co-routine copying every value, and SQLite walks the
    unique index in key order anyway; the caller checks the keys, so an order the
    planner did not keep costs a second query, never a wrong answer."""
    query = select(func.count(), func.group_concat(M.c.pk, PACK_SEPARATOR),
                   func.group_concat(stored, PACK_SEPARATOR)).where(
        M.c.scope == scope, M.c.table_name == table, M.c.pk <= bindparam("_hi"))
    return Prepared(query.where(M.c.pk > bindparam("_lo")) if after else query)


def _dirty(flag: str) -> str:
    """A new local change makes a row dirty, except one waiting for a person."""
    return flag if flag == "conflict" else DIRTY


_INSERT = Prepared(insert(M))
_MARK = Prepared(update(M).where(M.c.id == bindparam("_id")).values(
    row_hash=bindparam("row_hash"), key_hash=bindparam("key_hash"),
    tombstone=bindparam("tombstone"), flag=bindparam("flag"),
    changed_ms=bindparam("changed_ms"), updated_at=bindparam("updated_at")))


def _mark(conn, params):
    _MARK.execute_many(conn, params)


__all__ = ["FAST", "FULL", "ScanReport", "Scanner", "scan", "TOMBSTONE_HASH", "CONFIRMED",
           "SENT"]
