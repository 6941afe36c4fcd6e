"""Periodic full sync: both sides fingerprint their rows into hash buckets (by key), and
only the rows of buckets whose fingerprints differ are compared one by one and sent.

Buckets are chosen by a hash of the key rather than by key ranges so that two databases
with different collations still put each row in the same bucket; a bucket's fingerprint is
the sum of its rows' portable hashes, so row order does not matter either.
"""
from __future__ import annotations

import hashlib

from sqlalchemy import insert, update
from sqlalchemy.engine import Connection

from sync.clock import now_ms, utc_now
from sync.models import DIRTY, MirrorRow
from sync.scan import TOMBSTONE_HASH
from sync.spec import encode_pk, portable_hash, row_hash

M = MirrorRow.__table__
MOD = 1 << 128
MAX_BUCKETS = 65536


def bucket_of(pk_text: str, buckets: int) -> int:
    return int.from_bytes(hashlib.blake2b(pk_text.encode(), digest_size=8).digest(), "big") % buckets


class DigestPass:
    """One pass over a table in key order, a chunk per `step`, folding each row into the
    bucket fingerprints (``sums``) or, for rows in the ``wanted`` buckets, into ``rows``
    (key text -> the row, or its portable fingerprint). Like a scan, each step is its own
    database call, so a million-row table does not hold the database thread."""

    def __init__(self, source, buckets: int, wanted: list[int] | None = None,
                 keep_rows: bool = False, chunk: int = 5000):
        self.source = source
        self.buckets = buckets
        self.wanted = None if wanted is None else set(wanted)
        self.keep_rows = keep_rows
        self.chunk = chunk
        self.sums = [0] * buckets
        self.rows: dict[str, object] = {}
        self.after: tuple | None = None
        self.done = False

    def step(self, conn: Connection) -> bool:
        """Fold the next chunk in; True while there is more."""
        spec = self.source.spec
        npk = len(spec.pk)
        rows = self.source.read_chunk(conn, self.after, self.chunk)
        for row in rows:
            text = encode_pk(spec, row[:npk])
            bucket = bucket_of(text, self.buckets)
            if self.wanted is None:
                self.sums[bucket] = (self.sums[bucket] + portable_hash(row)) % MOD
            elif bucket in self.wanted:
                self.rows[text] = row if self.keep_rows else f"{portable_hash(row):032x}"
        if len(rows) < self.chunk:
            self.done = True
            return False
        self.after = rows[-1][:npk]
        return True

    def run_all(self, conn: Connection) -> "DigestPass":
        while self.step(conn):
            pass
        return self

    @property
    def digests(self) -> list[str]:
        return [f"{s:032x}" for s in self.sums]


def bucket_digests(conn: Connection, source, buckets: int) -> list[str]:
    """One fingerprint per bucket of this side's table."""
    return DigestPass(source, buckets).run_all(conn).digests


def row_digests(conn: Connection, source, buckets: int, wanted: list[int]) -> dict[str, str]:
    """Each row's portable fingerprint, for the rows in the ``wanted`` buckets."""
    return DigestPass(source, buckets, wanted).run_all(conn).rows


def differing_buckets(ours: list[str], theirs: list[str]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]


def mark_differing(conn: Connection, source, scope: str, buckets: int, wanted: list[int],
                   theirs: dict[str, str], ours: dict | None = None) -> int:
    """Mark this side's version of every row that differs from the peer's as dirty and
    forced (so the peer takes it whatever its own state); rows only the peer has are sent
    as deletes. ``ours``: this side's rows of the wanted buckets, if already read (a
    `DigestPass` with ``keep_rows``). Returns how many rows were marked."""
    spec = source.spec
    if ours is None:
        ours = DigestPass(source, buckets, wanted, keep_rows=True).run_all(conn).rows
    marks = {}
    for text, row in ours.items():
        if theirs.get(text) != f"{portable_hash(row):032x}":
            marks[text] = (row_hash(row), row_hash(tuple(row[i] for i in spec.key_index)), False)
    for text in theirs.keys() - ours.keys():
        marks[text] = (TOMBSTONE_HASH, TOMBSTONE_HASH, True)
    now, ms = utc_now(), now_ms()
    for text, (full, key, tomb) in marks.items():
        values = {"row_hash": full, "key_hash": key, "tombstone": tomb, "flag": DIRTY,
                  "force": True, "changed_ms": ms, "updated_at": now}
        done = conn.execute(update(M).where(M.c.scope == scope, M.c.table_name == spec.name,
                                            M.c.pk == text).values(values)).rowcount
        if not done:
            conn.execute(insert(M).values(scope=scope, table_name=spec.name, pk=text,
                                          version=0, **values))
    return len(marks)
