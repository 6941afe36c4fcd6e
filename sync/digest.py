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


def _rows(conn: Connection, source, chunk: int = 5000):
    npk = len(source.spec.pk)
    after = None
    while True:
        rows = source.read_chunk(conn, after, chunk)
        yield from rows
        if len(rows) < chunk:
            return
        after = rows[-1][:npk]


def bucket_digests(conn: Connection, source, buckets: int) -> list[str]:
    """One fingerprint per bucket of this side's table."""
    spec = source.spec
    npk = len(spec.pk)
    sums = [0] * buckets
    for row in _rows(conn, source):
        b = bucket_of(encode_pk(spec, row[:npk]), buckets)
        sums[b] = (sums[b] + portable_hash(row)) % MOD
    return [f"{s:032x}" for s in sums]


def row_digests(conn: Connection, source, buckets: int, wanted: list[int]) -> dict[str, str]:
    """Each row's portable fingerprint, for the rows in the ``wanted`` buckets."""
    spec = source.spec
    npk = len(spec.pk)
    wanted_set = set(wanted)
    found = {}
    for row in _rows(conn, source):
        text = encode_pk(spec, row[:npk])
        if bucket_of(text, buckets) in wanted_set:
            found[text] = f"{portable_hash(row):032x}"
    return found


def differing_buckets(ours: list[str], theirs: list[str]) -> list[int]:
    return [i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b]


def mark_differing(conn: Connection, source, scope: str, buckets: int, wanted: list[int],
                   theirs: dict[str, str]) -> int:
    """Mark this side's version of every row that differs from the peer's as dirty and
    forced (so the peer takes it whatever its own state); rows only the peer has are sent
    as deletes. Returns how many rows were marked."""
    spec = source.spec
    npk = len(spec.pk)
    ours = {}
    for row in _rows(conn, source):
        text = encode_pk(spec, row[:npk])
        if bucket_of(text, buckets) in set(wanted):
            ours[text] = row
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
