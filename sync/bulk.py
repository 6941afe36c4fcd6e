"""The writes of one received chunk, collected while deciding and then run as executemany
statements: table deletes, updates and inserts, the re-read of what was stored, the
conflict log and the mirror. Row-at-a-time queries made receiving 10,000 rows take
minutes; this is a handful of statements per chunk.

A batch statement that fails (a constraint, a row the source rejects) is retried row by
row, so only the rows at fault get an error answer; every retried write is idempotent
(delete, or update-else-insert), so rows the failed statement already wrote are harmless.
"""
from __future__ import annotations

from sqlalchemy import bindparam, insert, update
from sqlalchemy.exc import DBAPIError

from sync.apply import APPLIED, CONFLICTED, M, _jsonable, judge_conflict
from sync.clock import now_ms, utc_now
from sync.rawsql import execute_many
from sync.models import CONFIRMED, CONFLICT, ConflictRecord
from sync.scan import TOMBSTONE_HASH
from sync.spec import row_hash


def _hashes(spec, stored) -> dict:
    if stored is None:
        return {"row_hash": TOMBSTONE_HASH, "key_hash": TOMBSTONE_HASH, "tombstone": True}
    keys = tuple(stored[i] for i in spec.key_index)
    return {"row_hash": row_hash(stored), "key_hash": row_hash(keys), "tombstone": False}


class Plan:
    """What a chunk will write; `execute` writes it and answers the rows that failed."""

    def __init__(self, source, scope: str):
        self.source = source
        self.spec = source.spec
        self.scope = scope
        self.writes = []      # (index, text, pk, values | None, version, mirror row, exists)
        self.mirrors = []     # (text, stored | None, version, mirror row)
        self.conflicts = []   # (index, conflict record)
        self.flag_ids = []    # mirror ids that now wait for a person
        self.new_conflicts = []  # mirror rows to insert in the conflict state

    def write(self, i, text, pk, values, version, m, exists) -> None:
        self.writes.append((i, text, pk, values, version, m, exists))

    def mirror(self, text, stored, version, m) -> None:
        self.mirrors.append((text, stored, version, m))

    def decide(self, i, text, pk, values, local, m, row, version) -> dict:
        """Both sides changed the row: the table's rule decides; the loser is logged."""
        incoming_wins, record = judge_conflict(self.spec, self.scope, text, local, values, m, row)
        if incoming_wins is None:
            self.conflicts.append((i, record))
            if m is not None:
                self.flag_ids.append(m.id)
            else:
                self.new_conflicts.append(self._mirror_insert(text, local, 0, CONFLICT))
            return {"pk": list(pk), "status": CONFLICTED, "resolution": "manual"}
        self.conflicts.append((i, record))
        if incoming_wins:
            self.write(i, text, pk, values, version, m, local is not None)
            return {"pk": list(pk), "status": CONFLICTED, "resolution": "applied",
                    "version": version}
        self.mirror(text, local, version, m)
        return {"pk": list(pk), "status": CONFLICTED, "resolution": "rejected",
                "version": version, "values": _jsonable(local)}

    # -- writing -----------------------------------------------------------------------
    def execute(self, conn) -> dict[int, str]:
        """Write everything; the rows whose table write failed, with the reason."""
        source = self.source
        deletes = [(w[0], w[2]) for w in self.writes if w[3] is None]
        updates = [(w[0], w[3]) for w in self.writes if w[3] is not None and w[6]]
        inserts = [(w[0], w[3]) for w in self.writes if w[3] is not None and not w[6]]
        failed = _guarded(conn, getattr(source, "delete_many", None), source.delete, deletes)
        failed.update(_guarded(conn, getattr(source, "update_many", None), source.upsert, updates))
        failed.update(_guarded(conn, getattr(source, "insert_many", None), source.upsert, inserts))
        written = [w for w in self.writes if w[0] not in failed]
        stored = source.read_many(conn, [w[2] for w in written if w[3] is not None])
        for i, text, pk, values, version, m, _ in written:
            self.mirror(text, None if values is None else stored.get(pk), version, m)
        records = [r for i, r in self.conflicts if i not in failed]
        if records:
            execute_many(conn, insert(ConflictRecord.__table__), records)
        self._write_mirror(conn)
        return failed

    def _mirror_insert(self, text, stored, version, flag) -> dict:
        return {"scope": self.scope, "table_name": self.spec.name, "pk": text,
                **_hashes(self.spec, stored), "version": version, "flag": flag, "force": False,
                "batch_id": None, "seq": None, "sent_hash": None, "changed_ms": now_ms(),
                "updated_at": utc_now()}

    def _write_mirror(self, conn) -> None:
        now = utc_now()
        new = list(self.new_conflicts)
        changed = []
        for text, stored, version, m in self.mirrors:
            if m is None:
                new.append(self._mirror_insert(text, stored, version, CONFIRMED))
            else:
                changed.append({"_id": m.id, "_version": version,
                                **{f"_{k}": v for k, v in _hashes(self.spec, stored).items()}})
        if new:
            execute_many(conn, insert(M), new)
        if changed:  # what every confirmed row shares is bound once, not per row
            execute_many(conn, update(M).where(M.c.id == bindparam("_id")).values(
                row_hash=bindparam("_row_hash"), key_hash=bindparam("_key_hash"),
                tombstone=bindparam("_tombstone"), version=bindparam("_version"),
                flag=CONFIRMED, force=False, batch_id=None, seq=None, sent_hash=None,
                updated_at=now), changed)
        if self.flag_ids:
            execute_many(conn, update(M).where(M.c.id == bindparam("_id")).values(flag=CONFLICT),
                         [{"_id": i} for i in self.flag_ids])


def _guarded(conn, many, one, items) -> dict[int, str]:
    """Run ``many`` over all items; if it fails (or is missing), ``one`` per item, keeping
    each failure as that item's answer."""
    from sync.cluster_tables import RowRejected

    if not items:
        return {}
    driver = getattr(conn.dialect, "loaded_dbapi", None) or conn.dialect.dbapi
    if many is not None:
        try:
            many(conn, [arg for _, arg in items])
            return {}
        except (DBAPIError, RowRejected, driver.Error):  # raw executemany: driver errors
            pass  # find the rows at fault one by one
    failed = {}
    for i, arg in items:
        try:
            one(conn, arg)
        except (DBAPIError, RowRejected) as exc:
            failed[i] = str(exc).splitlines()[0][:200]
    return failed


__all__ = ["Plan", "APPLIED"]
