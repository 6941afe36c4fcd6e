"""Scans: compare the ERP table with the mirror of the peer's copy, chunk by chunk, and
mark what changed locally (insert, update, delete) as dirty for the sender.

A full scan fingerprints every field; a fast scan only the key fields (cheaper, run often).
Each chunk is one keyset query on the table and one range query on the mirror; whatever the
two orders disagree on (collations) is settled by point look-ups, so a scan never reports a
false delete.
"""
from __future__ import annotations

import operator
import time
from functools import partial
from hashlib import md5
from itertools import compress, filterfalse, repeat
from operator import methodcaller, ne
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection

from sync.models import CONFIRMED, DIRTY, MirrorRow, SENT
from sync.rawsql import fetch
from sync.spec import encode_pk, row_hash
from sync.clock import utc_now

FULL = "full"
FAST = "fast"
TOMBSTONE_HASH = "-"
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


def fingerprints(values, _md5=partial(md5, usedforsecurity=False),
                 _hex=methodcaller("hexdigest")):
    """`spec.row_hash` of each tuple in ``values``, as an iterator run entirely in C."""
    return map(_hex, map(_md5, map(str.encode, map(repr, values))))


_MIRROR = select(M.c.id, M.c.pk, M.c.row_hash, M.c.key_hash, M.c.tombstone, M.c.flag)


def _mirror_range(conn, scope, table, lo, hi):
    query = _MIRROR.where(M.c.scope == scope, M.c.table_name == table)
    if lo is not None:
        query = query.where(M.c.pk > lo)
    if hi is not None:
        query = query.where(M.c.pk <= hi)
    rows = fetch(conn, query)
    return dict(zip(map(SECOND, rows), rows))


def _mirror_exact(conn, scope, table, pks):
    found = {}
    for start in range(0, len(pks), 500):
        query = _MIRROR.where(M.c.scope == scope, M.c.table_name == table,
                              M.c.pk.in_(pks[start:start + 500]))
        found.update({r[1]: r for r in fetch(conn, query)})
    return found


def scan(conn: Connection, source, scope: str, mode: str = FULL, chunk: int = 5000,
         now_ms: int | None = None) -> ScanReport:
    """Compare ``source`` with its mirror under ``scope``; mark differences dirty.

    Runs in the caller's transaction; call it per chunk-sized transaction for very large
    tables if the writes should not wait for the end (``scan_chunks`` does that)."""
    report = ScanReport()
    for _ in scan_chunks(conn, source, scope, mode, chunk, now_ms, report):
        pass
    return report


def scan_chunks(conn, source, scope, mode=FULL, chunk=5000, now_ms=None, report=None):
    """The scan as a generator: yields after each chunk (a cooperative scheduler or a commit
    may run between chunks)."""
    spec = source.spec
    report = report if report is not None else ScanReport()
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    if getattr(source, "joinable", False):
        yield from _scan_joined(conn, source, scope, mode, chunk, now_ms, report)
        return
    keys = key_of(spec)
    npk = len(spec.pk)
    single_str = spec.pk_types == ("str",)
    pick, stored_at = (None, 2) if mode == FULL else (keys, 3)
    after = None
    lo_text = None
    while True:
        rows = source.read_chunk(conn, after, chunk)
        last = len(rows) < chunk
        hi_text = None if last else encode_pk(spec, rows[-1][:npk])
        mirror = _mirror_range(conn, scope, spec.name, lo_text, hi_text)
        if single_str:
            texts = list(map(FIRST, rows))
        else:
            texts = [encode_pk(spec, r[:npk]) for r in rows]
        missing = list(filterfalse(mirror.__contains__, texts))
        if missing:  # the two orders disagree, or these are new rows
            mirror.update(_mirror_exact(conn, scope, spec.name, missing))
        inserts, updates = [], []
        get = mirror.get
        # Fingerprint and compare the chunk in C-level map()s; only rows that differ (new,
        # changed, back after a delete) reach the Python loop below.
        stored = dict(zip(mirror, map(operator.itemgetter(stored_at), mirror.values())))
        differ = compress(zip(texts, rows), map(ne, fingerprints(rows if pick is None else
                                                                 map(pick, rows)),
                                                map(stored.get, texts)))
        for text, row in differ:
            m = get(text)
            if mode == FULL:
                full = row_hash(row)
                if m is not None and not m[4] and m[2] == full:
                    continue
                key = row_hash(keys(row))
            else:
                key = row_hash(keys(row))
                if m is not None and not m[4] and m[3] == key:
                    continue
                full = None  # filled in below from the whole row
            if m is None:
                inserts.append((text, row, full, key))
            else:
                updates.append((m, text, row, full, key))
        if len(mirror) > len(rows) - len(missing):  # mirror rows the table no longer has?
            seen = set(texts)
            gone = [m for t, m in mirror.items() if t not in seen and not m[4]]
        else:
            gone = []
        if gone:
            _confirm_deletes(conn, source, spec, gone, report, now_ms)
        _write(conn, source, spec, scope, inserts, updates, report, now_ms)
        report.rows += len(rows)
        report.chunks += 1
        yield report
        if last:
            return
        after = rows[-1][:npk]
        lo_text = hi_text


def _scan_joined(conn, source, scope, mode, chunk, now_ms, report):
    """The same scan in one query per chunk: the table left-joined with its mirror on the
    key (one text key column). Deletes are looked for only when the counts say so."""
    spec = source.spec
    keys = key_of(spec)
    n = len(spec.fields)
    fields = operator.itemgetter(slice(0, n))
    # which fingerprint the mode compares, and where the mirror's copy of it sits
    pick, stored_at = (fields, n + 2) if mode == FULL else (keys, n + 3)
    matched = 0
    after = None
    while True:
        rows = source.read_joined_chunk(conn, M, scope, after, chunk,
                                        "row_hash" if mode == FULL else "key_hash")
        # Fingerprint and compare the whole chunk in C-level map()s; only the rows that
        # differ (changed, new, or back after a delete) reach the Python loop below.
        differ = compress(rows, map(ne, fingerprints(map(pick, rows)),
                                    map(operator.itemgetter(stored_at), rows)))
        matched += sum(map(operator.eq, map(operator.itemgetter(n + 4), rows),
                           repeat(0)))  # live mirror rows (no mirror: None, not 0)
        inserts, updates = [], []
        for joined in differ:
            row = joined[:n]
            m = joined[n:]
            if m[0] is None:
                inserts.append((row[0], row, None if mode == FAST else row_hash(row),
                                row_hash(keys(row))))
                continue
            if mode == FULL:
                full = row_hash(row)
                if not m[4] and m[2] == full:
                    continue
                key = row_hash(keys(row))
            else:
                key = row_hash(keys(row))
                if not m[4] and m[3] == key:
                    continue
                full = None
            updates.append((m, row[0], row, full, key))
        _write(conn, source, spec, scope, inserts, updates, report, now_ms)
        matched += len(inserts) + sum(1 for u in updates if u[0][4])  # now live as well
        report.rows += len(rows)
        report.chunks += 1
        yield report
        if len(rows) < chunk:
            break
        after = (rows[-1][0],)
    live = conn.execute(select(func.count()).select_from(M).where(
        M.c.scope == scope, M.c.table_name == spec.name, M.c.tombstone.is_(False))).scalar()
    if live > matched:
        _confirm_deletes(conn, source, spec, source.mirror_orphans(conn, M, scope), report, now_ms)
        yield report


def _full_hashes(conn, source, spec, pending):
    """Fast-scan hits need the whole row's hash for the mirror: one look-up per chunk."""
    npk = len(spec.pk)
    need = [row[:npk] for row, full in pending if full is None]
    if not need:
        return {}
    return {pk: row_hash(row) for pk, row in source.read_many(conn, need).items()}


def _write(conn, source, spec, scope, inserts, updates, report, now_ms):
    if not inserts and not updates:
        return
    npk = len(spec.pk)
    fulls = _full_hashes(conn, source, spec,
                         [(r, f) for _, r, f, _ in inserts] + [(r, f) for _, _, r, f, _ in updates])
    now = utc_now()
    if inserts:
        conn.execute(insert(M), [
            {"scope": scope, "table_name": spec.name, "pk": text,
             "row_hash": full or fulls.get(row[:npk], TOMBSTONE_HASH), "key_hash": key,
             "version": 0, "tombstone": False, "flag": DIRTY, "force": False,
             "changed_ms": now_ms, "updated_at": now}
            for text, row, full, key in inserts])
        report.inserts += len(inserts)
    if updates:
        for m, text, row, full, key in updates:
            if m[4]:
                report.inserts += 1  # back after a delete
            else:
                report.updates += 1
        _mark(conn, [
            {"_id": m[0], "row_hash": full or fulls.get(row[:npk], TOMBSTONE_HASH),
             "key_hash": key, "tombstone": False, "flag": _dirty(m[5]), "changed_ms": now_ms,
             "updated_at": now}
            for m, text, row, full, key in updates])


def _dirty(flag: str) -> str:
    """A new local change makes a row dirty, except one waiting for a person."""
    return flag if flag == "conflict" else DIRTY


def _mark(conn, params):
    conn.execute(
        update(M).where(M.c.id == bindparam("_id")).values(
            row_hash=bindparam("row_hash"), key_hash=bindparam("key_hash"),
            tombstone=bindparam("tombstone"), flag=bindparam("flag"),
            changed_ms=bindparam("changed_ms"), updated_at=bindparam("updated_at")),
        params)


def _confirm_deletes(conn, source, spec, gone, report, now_ms):
    from sync.spec import decode_pk

    still_there = source.read_many(conn, [decode_pk(spec, m[1]) for m in gone])
    texts_there = {encode_pk(spec, pk) for pk in still_there}
    deleted = [m for m in gone if m[1] not in texts_there]
    if deleted:
        now = utc_now()
        _mark(conn, [
            {"_id": m[0], "row_hash": TOMBSTONE_HASH, "key_hash": TOMBSTONE_HASH,
             "tombstone": True, "flag": _dirty(m[5]), "changed_ms": now_ms, "updated_at": now}
            for m in deleted])
        report.deletes += len(deleted)


__all__ = ["FAST", "FULL", "ScanReport", "scan", "scan_chunks", "TOMBSTONE_HASH",
           "CONFIRMED", "SENT"]
