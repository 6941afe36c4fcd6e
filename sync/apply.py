"""The receiving side of a batch: apply rows as idempotent upserts, update the mirror of
the sender in the same transaction (so the change does not echo back), decide conflicts.

Only the cluster decides conflicts (one decision, one record): an enterprise agent that
receives a row it has changed itself answers "deferred" and sends its own version, which
the cluster then decides by the table's rule.
"""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from sync.clock import now_ms, utc_now
from sync.models import (CONFIRMED, CONFLICT, DIRTY, SENT, AppliedChunk, ConflictRecord,
                         MirrorRow)
from sync.scan import TOMBSTONE_HASH
from sync.spec import Role, Rule, encode_pk, normal_text, row_hash, to_json_value

M = MirrorRow.__table__
APPLIED, CONFLICTED, ERROR, DEFERRED = "applied", "conflict", "error", "deferred"


class BadRow(ValueError):
    """A row in a data request that does not fit the table spec."""


def stored_results(conn: Connection, scope: str, batch_id: str, seq: int) -> list | None:
    text = conn.scalar(select(AppliedChunk.results).where(
        AppliedChunk.scope == scope, AppliedChunk.batch_id == batch_id, AppliedChunk.seq == seq))
    return None if text is None else json.loads(text)


def received_seqs(conn: Connection, scope: str, batch_id: str) -> list[int]:
    return sorted(conn.scalars(select(AppliedChunk.seq).where(
        AppliedChunk.scope == scope, AppliedChunk.batch_id == batch_id)))


def apply_chunk(conn: Connection, source, role: Role, scope: str, batch_id: str, seq: int,
                rows: list[dict]) -> list[dict]:
    """Apply one data chunk once; a repeated chunk gets the first answer again."""
    done = stored_results(conn, scope, batch_id, seq)
    if done is not None:
        return done
    results = apply_rows(conn, source, role, scope, rows)
    conn.execute(insert(AppliedChunk.__table__).values(
        scope=scope, batch_id=batch_id, seq=seq, results=json.dumps(results),
        created_at=utc_now()))
    return results


def apply_rows(conn: Connection, source, role: Role, scope: str, rows: list[dict]) -> list[dict]:
    """Apply a chunk's rows in a few statements: one read of the mirror, one of the table,
    decisions in Python, then executemany writes (`sync.bulk`). A chunk naming one key
    twice is applied row by row, in order."""
    from sync.bulk import Plan  # bulk builds on this module's helpers

    spec = source.spec
    results: list = [None] * len(rows)
    checked = []
    for i, row in enumerate(rows):
        try:
            pk, values = _check(spec, row)
        except BadRow as exc:
            results[i] = {"pk": row.get("pk") if isinstance(row, dict) else None,
                          "status": ERROR, "message": str(exc)}
            continue
        checked.append((i, row, pk, values, encode_pk(spec, pk)))
    if len({c[4] for c in checked}) < len(checked):
        for i, row, *_ in checked:
            results[i] = _apply_row(conn, source, role, scope, row)
        return results
    mirrors = mirror_rows(conn, scope, spec.name, [c[4] for c in checked])
    stored = source.read_many(conn, [c[2] for c in checked])
    plan = Plan(source, scope)
    for i, row, pk, values, text in checked:
        m, local = mirrors.get(text), stored.get(pk)
        answer = {"pk": list(pk)}
        version = max(int(row.get("base", 0)), m.version if m is not None else 0) + 1
        if m is not None and m.flag == CONFLICT and not row.get("force"):
            results[i] = {**answer, "status": CONFLICTED, "resolution": "manual"}
        elif row.get("force") or not _changed_here(m, local):
            plan.write(i, text, pk, values, version, m, local is not None)
            results[i] = {**answer, "status": APPLIED, "version": version}
        elif _same(local, values):
            plan.mirror(text, local, version, m)
            results[i] = {**answer, "status": APPLIED, "version": version}
        elif role is Role.ENTERPRISE:
            results[i] = {**answer, "status": DEFERRED}
        else:
            results[i] = plan.decide(i, text, pk, values, local, m, row, version)
    for i, message in plan.execute(conn).items():
        results[i] = {"pk": results[i]["pk"], "status": ERROR, "message": message}
    return results


def mirror_rows(conn: Connection, scope: str, table: str, texts: list[str]) -> dict:
    """The mirror rows of these keys, by key text (one query per 1,000 keys)."""
    found = {}
    for start in range(0, len(texts), 1000):
        found.update({m.pk: m for m in conn.execute(select(M).where(
            M.c.scope == scope, M.c.table_name == table, M.c.pk.in_(texts[start:start + 1000])))})
    return found


def _check(spec, row) -> tuple[tuple, tuple | None]:
    try:
        pk = tuple(row["pk"])
        values = row.get("values")
        int(row.get("base", 0))
    except (KeyError, TypeError, ValueError):
        raise BadRow("a row needs pk, values (null for a delete) and base") from None
    if len(pk) != len(spec.pk):
        raise BadRow(f"pk needs {len(spec.pk)} values")
    if values is not None:
        if not isinstance(values, list) or len(values) != len(spec.fields):
            raise BadRow(f"values needs {len(spec.fields)} fields")
        if tuple(values[: len(pk)]) != pk:
            raise BadRow("values do not start with the pk")
        values = tuple(values)
    pk = tuple(int(v) if kind == "int" else v for kind, v in zip(spec.pk_types, pk))
    return pk, values


def _apply_row(conn, source, role, scope, row) -> dict:
    spec = source.spec
    try:
        pk, values = _check(spec, row)
    except BadRow as exc:
        return {"pk": row.get("pk") if isinstance(row, dict) else None, "status": ERROR,
                "message": str(exc)}
    text = encode_pk(spec, pk)
    answer = {"pk": list(pk)}
    try:
        m = conn.execute(select(M).where(M.c.scope == scope, M.c.table_name == spec.name,
                                         M.c.pk == text)).first()
        local = source.read_many(conn, [pk]).get(pk)
        base = int(row.get("base", 0))
        version = max(base, m.version if m is not None else 0) + 1
        if m is not None and m.flag == CONFLICT and not row.get("force"):
            return {**answer, "status": CONFLICTED, "resolution": "manual"}
        if row.get("force") or not _changed_here(m, local):
            _write(conn, source, scope, text, pk, values, version, m)
            return {**answer, "status": APPLIED, "version": version}
        if _same(local, values):
            _set_mirror(conn, scope, spec.name, text, local, spec, version, m)
            return {**answer, "status": APPLIED, "version": version}
        if role is Role.ENTERPRISE:
            return {**answer, "status": DEFERRED}
        return _decide(conn, source, scope, text, pk, values, local, m, row, version)
    except Exception as exc:  # noqa: BLE001 - a row's failure is that row's answer
        from sync.cluster_tables import RowRejected

        if not isinstance(exc, (RowRejected,)) and not _is_db_error(exc):
            raise
        return {**answer, "status": ERROR, "message": str(exc).splitlines()[0][:200]}


def _is_db_error(exc) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError)


def _changed_here(m, local) -> bool:
    """Has this side changed the row since the last agreement (scanned or not yet)?"""
    if m is None:
        return local is not None
    if m.flag in (DIRTY, SENT):
        return True
    if local is None:
        return not m.tombstone
    return m.tombstone or row_hash(local) != m.row_hash


def _same(local, values) -> bool:
    if local is None or values is None:
        return local is None and values is None
    if len(local) != len(values):
        return False
    return all(normal_text(a) == normal_text(_like(a, b)) for a, b in zip(local, values))


def _like(local, incoming):
    """The incoming value read as the local column's kind (JSON carries decimals as text)."""
    if isinstance(incoming, str) and isinstance(local, (int, float, Decimal)) \
            and not isinstance(local, bool):
        try:
            return Decimal(incoming)
        except ArithmeticError:
            return incoming
    return incoming


def _write(conn, source, scope, text, pk, values, version, m):
    if values is None:
        source.delete(conn, pk)
        stored = None
    else:
        source.upsert(conn, values)
        stored = source.read_many(conn, [pk]).get(pk)
    _set_mirror(conn, scope, source.spec.name, text, stored, source.spec, version, m)


def _set_mirror(conn, scope, table, text, stored, spec, version, m):
    """The mirror now holds what this side stores, agreed at ``version``."""
    if stored is None:
        hashes = {"row_hash": TOMBSTONE_HASH, "key_hash": TOMBSTONE_HASH, "tombstone": True}
    else:
        keys = tuple(stored[i] for i in spec.key_index)
        hashes = {"row_hash": row_hash(stored), "key_hash": row_hash(keys), "tombstone": False}
    values = {**hashes, "version": version, "flag": CONFIRMED, "force": False, "batch_id": None,
              "seq": None, "sent_hash": None, "updated_at": utc_now()}
    if m is None:
        conn.execute(insert(M).values(scope=scope, table_name=table, pk=text,
                                      changed_ms=now_ms(), **values))
    else:
        conn.execute(update(M).where(M.c.id == m.id).values(**values))


def judge_conflict(spec, scope: str, text: str, local, values, m, row) -> tuple[bool | None, dict]:
    """Both sides changed the row: (whether the incoming version wins by the table's rule,
    None when a person must decide; the conflict-log record, resolved or open)."""
    rule = spec.rule
    if rule is Rule.ENTERPRISE_WINS:
        incoming_wins = True  # only the cluster decides, so the sender is the enterprise
    elif rule is Rule.CLUSTER_WINS:
        incoming_wins = False
    elif rule is Rule.NEWER_WINS:
        local_ms = m.changed_ms if m is not None and m.flag in (DIRTY, SENT) else now_ms()
        incoming_wins = int(row.get("changed_ms", 0)) >= local_ms
    else:
        incoming_wins = None
    record = {
        "scope": scope, "table_name": spec.name, "pk": text, "rule": rule.value,
        "cluster_data": json.dumps(_jsonable(local)), "enterprise_data": json.dumps(_jsonable(values)),
        "created_at": utc_now(), "state": "open", "winner": None, "resolved_at": None,
    }
    if incoming_wins is not None:
        record.update(state="resolved", winner="enterprise" if incoming_wins else "cluster",
                      resolved_at=utc_now())
    return incoming_wins, record


def _decide(conn, source, scope, text, pk, values, local, m, row, version) -> dict:
    """Both sides changed the row: the table's rule decides; the loser is logged."""
    spec = source.spec
    incoming_wins, record = judge_conflict(spec, scope, text, local, values, m, row)
    if incoming_wins is None:
        conn.execute(insert(ConflictRecord.__table__).values(record))
        if m is not None:
            conn.execute(update(M).where(M.c.id == m.id).values(flag=CONFLICT))
        else:
            conn.execute(insert(M).values(
                scope=scope, table_name=spec.name, pk=text, row_hash=row_hash(local),
                key_hash=row_hash(tuple(local[i] for i in spec.key_index)), version=0,
                tombstone=False, flag=CONFLICT, force=False, changed_ms=now_ms(),
                updated_at=utc_now()))
        return {"pk": list(pk), "status": CONFLICTED, "resolution": "manual"}
    conn.execute(insert(ConflictRecord.__table__).values(record))
    if incoming_wins:
        _write(conn, source, scope, text, pk, values, version, m)
        return {"pk": list(pk), "status": CONFLICTED, "resolution": "applied", "version": version}
    _set_mirror(conn, scope, spec.name, text, local, spec, version, m)
    return {"pk": list(pk), "status": CONFLICTED, "resolution": "rejected", "version": version,
            "values": _jsonable(local)}


def _jsonable(values):
    return None if values is None else [to_json_value(v) for v in values]
