"""The conflict log, as people use it: list what waits, and settle a manual conflict by
choosing a side. The choice is written locally and sent forced, so the peer takes it even
though its own copy of the row waits in the conflict state too.
"""
from __future__ import annotations

import json

from sqlalchemy import select, update

from sync.apply import _like
from sync.clock import now_ms, utc_now
from sync.models import DIRTY, ConflictRecord, MirrorRow
from sync.scan import TOMBSTONE_HASH
from sync.spec import decode_pk, row_hash

M = MirrorRow.__table__
WINNERS = ("cluster", "enterprise")


class ConflictError(ValueError):
    """The conflict does not exist here, is already settled, or the choice is unknown."""


def open_conflicts(engine, scope: str) -> list[ConflictRecord]:
    with engine.connect() as conn:
        return list(conn.execute(select(ConflictRecord).where(
            ConflictRecord.scope == scope, ConflictRecord.state == "open")
            .order_by(ConflictRecord.id)))


def resolve(side, conflict_id: int, winner: str) -> None:
    """Settle an open conflict on the deciding side (the cluster) by picking ``winner``."""
    if winner not in WINNERS:
        raise ConflictError(f"winner must be one of {', '.join(WINNERS)}")
    with side.engine.begin() as conn:
        record = conn.execute(select(ConflictRecord).where(
            ConflictRecord.id == conflict_id, ConflictRecord.scope == side.scope)).first()
        if record is None:
            raise ConflictError(f"no conflict {conflict_id}")
        if record.state != "open":
            raise ConflictError(f"conflict {conflict_id} is already {record.state}")
        source = side.source(record.table_name)
        spec = source.spec
        pk = decode_pk(spec, record.pk)
        if winner != side.role.value:
            chosen = json.loads(record.enterprise_data if winner == "enterprise" else record.cluster_data)
            if chosen is None:
                source.delete(conn, pk)
            else:
                current = source.read_many(conn, [pk]).get(pk)
                source.upsert(conn, tuple(chosen) if current is None else
                              tuple(_like(a, b) for a, b in zip(current, chosen)))
        stored = source.read_many(conn, [pk]).get(pk)
        hashes = ({"row_hash": TOMBSTONE_HASH, "key_hash": TOMBSTONE_HASH, "tombstone": True}
                  if stored is None else
                  {"row_hash": row_hash(stored),
                   "key_hash": row_hash(tuple(stored[i] for i in spec.key_index)),
                   "tombstone": False})
        conn.execute(update(M).where(M.c.scope == side.scope, M.c.table_name == spec.name,
                                     M.c.pk == record.pk)
                     .values(flag=DIRTY, force=True, changed_ms=now_ms(), updated_at=utc_now(),
                             **hashes))
        conn.execute(update(ConflictRecord.__table__).where(ConflictRecord.id == conflict_id)
                     .values(state="resolved", winner=winner, resolved_at=utc_now()))
