"""The sending side of a batch: claim dirty mirror rows into a batch, build its data
chunks from the ERP table, and set the rows' sync flags from the receiver's results.

The claim is durable (flag "sent", batch id and chunk number in the mirror), so a sender
that restarts finds its unfinished batch and resumes it under the same id; the receiver's
memory of applied chunks makes every repeat harmless.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from sync.apply import APPLIED, CONFLICTED, DEFERRED, ERROR, _set_mirror, _write
from sync.clock import utc_now
from sync.rawsql import execute_many
from sync.models import CONFIRMED, CONFLICT, DIRTY, SENT, MirrorRow
from sync.scan import TOMBSTONE_HASH
from sync.spec import decode_pk, encode_pk, row_hash, to_json_value

M = MirrorRow.__table__
ERROR_FLAG = "error"


@dataclass
class Batch:
    batch_id: str
    table: str
    chunks: int
    last_id: int = 0


def pending_batches(conn: Connection, scope: str, table: str) -> list[Batch]:
    """Batches this side started and did not finish (a restart resumes them)."""
    rows = conn.execute(
        select(M.c.batch_id, M.c.seq).where(M.c.scope == scope, M.c.table_name == table,
                                            M.c.flag == SENT, M.c.batch_id.is_not(None))
        .distinct())
    chunks: dict[str, int] = {}
    for batch_id, seq in rows:
        chunks[batch_id] = max(chunks.get(batch_id, 0), seq + 1)
    return [Batch(b, table, n) for b, n in sorted(chunks.items())]


def claim_batch(conn: Connection, scope: str, table: str, max_rows: int, chunk_rows: int,
                batch_id: str | None = None, after_id: int = 0) -> Batch | None:
    """Put up to ``max_rows`` dirty rows (mirror ids above ``after_id``, so one push passes
    over the table once) into a new batch; None when nothing is dirty."""
    ids = list(conn.scalars(
        select(M.c.id).where(M.c.scope == scope, M.c.table_name == table, M.c.flag == DIRTY,
                             M.c.id > after_id)
        .order_by(M.c.id).limit(max_rows)))
    if not ids:
        return None
    batch_id = batch_id or uuid.uuid4().hex
    execute_many(conn, update(M).where(M.c.id == bindparam("_id")).values(
        flag=SENT, batch_id=batch_id, seq=bindparam("seq")),
        [{"_id": i, "seq": n // chunk_rows} for n, i in enumerate(ids)])
    return Batch(batch_id, table, (len(ids) + chunk_rows - 1) // chunk_rows, ids[-1])


def chunk_rows(conn: Connection, source, scope: str, batch_id: str, seq: int) -> list[dict]:
    """The data of one chunk as it stands in the ERP table now; remembers what was sent."""
    spec = source.spec
    mirror = conn.execute(select(M.c.id, M.c.pk, M.c.version, M.c.changed_ms, M.c.force).where(
        M.c.scope == scope, M.c.table_name == spec.name, M.c.batch_id == batch_id,
        M.c.seq == seq).order_by(M.c.id)).all()
    pks = [decode_pk(spec, m.pk) for m in mirror]
    current = source.read_many(conn, pks)
    rows, sent = [], []
    for m, pk in zip(mirror, pks):
        values = current.get(pk)
        rows.append({"pk": [to_json_value(v) for v in pk],
                     "values": None if values is None else [to_json_value(v) for v in values],
                     "base": m.version, "changed_ms": m.changed_ms, "force": bool(m.force)})
        sent.append({"_id": m.id, "sent_hash": TOMBSTONE_HASH if values is None else row_hash(values)})
    if sent:
        execute_many(conn, update(M).where(M.c.id == bindparam("_id")).values(
            sent_hash=bindparam("sent_hash")), sent)
    return rows


@dataclass
class Outcome:
    applied: int = 0
    conflicts: int = 0
    errors: int = 0
    deferred: int = 0


def take_results(conn: Connection, source, scope: str, batch_id: str, results: list[dict],
                 outcome: Outcome | None = None) -> Outcome:
    """Set the sync flags of a chunk's rows from the receiver's per-row results."""
    spec = source.spec
    outcome = outcome or Outcome()
    keyed = []
    for result in results:
        try:
            keyed.append((encode_pk(spec, result["pk"]), result))
        except (KeyError, TypeError, ValueError):
            outcome.errors += 1
    mirrors = {}
    for start in range(0, len(keyed), 1000):
        mirrors.update({m.pk: m for m in conn.execute(select(M).where(
            M.c.scope == scope, M.c.table_name == spec.name, M.c.batch_id == batch_id,
            M.c.pk.in_([text for text, _ in keyed[start:start + 1000]])))})
    settled: list[dict] = []
    for text, result in keyed:
        m = mirrors.pop(text, None)  # popped: a repeated key is settled once
        if m is None:
            continue  # already settled (a repeated result, or decided meanwhile)
        status, resolution = result.get("status"), result.get("resolution")
        unchanged = m.flag == SENT and m.row_hash == m.sent_hash
        if status == APPLIED or (status == CONFLICTED and resolution == "applied"):
            outcome.applied += status == APPLIED
            outcome.conflicts += status == CONFLICTED
            _settle(settled, m, int(result.get("version", m.version + 1)),
                    CONFIRMED if unchanged else DIRTY)
        elif status == CONFLICTED and resolution == "rejected":
            outcome.conflicts += 1
            version = int(result.get("version", m.version + 1))
            if unchanged:  # the peer's version won: take it
                pk = tuple(decode_pk(spec, text))
                values = result.get("values")
                _write(conn, source, scope, text, pk, None if values is None else tuple(values),
                       version, m)
            else:
                _settle(settled, m, version, DIRTY)
        elif status == CONFLICTED:
            outcome.conflicts += 1
            _settle(settled, m, m.version, CONFLICT)
        elif status == DEFERRED:
            outcome.deferred += 1
            _settle(settled, m, m.version, DIRTY)
        else:
            outcome.errors += 1
            _settle(settled, m, m.version, ERROR_FLAG if status == ERROR else DIRTY)
    if settled:
        execute_many(conn, update(M).where(M.c.id == bindparam("_id")).values(
            version=bindparam("version"), flag=bindparam("flag"), batch_id=None, seq=None,
            force=bindparam("force"), updated_at=utc_now()), settled)
    return outcome


def _settle(settled: list, m, version, flag):
    """Collect one row's new state; take_results writes them all in one executemany."""
    settled.append({"_id": m.id, "version": version, "flag": flag,
                    "force": False if flag == CONFIRMED else bool(m.force)})


__all__ = ["Batch", "Outcome", "claim_batch", "chunk_rows", "pending_batches", "take_results",
           "_set_mirror"]
