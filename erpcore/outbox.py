"""The durable outbox: queue reply parts, claim due ones, record submits and receipts.

SQLAlchemy Core in batches (ARCHITECTURE.md, "Message path"). Functions take a Session
inside the caller's transaction and never commit. Delivery toward the SMS centre is
at-least-once: a row claimed ("sending") by a process that dies is claimed again once its
lease runs out.

Receipts carry the SMS centre's message id, sometimes in another base than the submit
response gave it (hex at submit, decimal in the receipt, or the reverse), so a receipt
matches any of the id's forms (`receipt_id_forms`). A receipt may also overtake our own
commit of the submit response; it is kept as an orphan and matched again when the id is
recorded (`mark_submitted`) or by the periodic `rematch_orphans`.
"""
from __future__ import annotations

import logging
import string
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Integer, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from erpcore.inbox import as_timedelta, chunks, clip, execute, round_trip_each, skip_locked
from erpcore.keyed_update import KeyedUpdate
from erpcore.messaging_models import (
    ADDRESS_LEN,
    CODING_LEN,
    ERROR_LEN,
    LINK_LEN,
    RECEIPT_STATE_LEN,
    SMSC_ID_LEN,
    Outbox,
    ReceiptOrphan,
)

log = logging.getLogger(__name__)

outbox_t = Outbox.__table__
orphan_t = ReceiptOrphan.__table__

DELIVERED_STATES = frozenset({"DELIVRD"})
UNDELIVERED_STATES = frozenset({"UNDELIV", "EXPIRED", "REJECTD", "DELETED"})
_DIGITS = frozenset(string.digits)
_IDS = bindparam("ids", expanding=True)
_HEX = frozenset(string.hexdigits.lower())
#: Hex forms are also tried zero-padded up to this width (SMSCs pad to 8, 10 or 16).
MAX_HEX_PAD = 16

# Hot-path statements, built once: per batch, building and cache-keying statements cost
# more than running them. Values go in as bind parameters (IN lists "expanding").
_c = outbox_t.c
_INSERT = insert(outbox_t)
_INSERT_RETURNING_ID = insert(outbox_t).returning(_c.id, sort_by_parameter_order=True)
_LIMIT = bindparam("limit", type_=Integer, literal_execute=True)
_CLAIM_COLUMNS = (_c.id, _c.inbox_id, _c.link, _c.sender, _c.recipient, _c.text, _c.coding,
                  _c.concat_ref, _c.concat_total, _c.concat_number, _c.attempts)
_CLAIM_DUE = (select(*_CLAIM_COLUMNS).where(_c.state == "queued", _c.next_attempt_at <= bindparam("now"))
              .order_by(_c.next_attempt_at, _c.id).limit(_LIMIT))
_CLAIM_EXPIRED = (select(*_CLAIM_COLUMNS).where(_c.state == "sending", _c.lease_until < bindparam("now"))
                  .order_by(_c.id).limit(_LIMIT))
_CLAIM_QUERIES = {
    (query, locking): query.with_for_update(skip_locked=True) if locking else query
    for query in (_CLAIM_DUE, _CLAIM_EXPIRED)
    for locking in (False, True)
}
_TAKE = (update(outbox_t).where(_c.id.in_(_IDS))
         .values(state="sending", attempts=_c.attempts + 1, lease_until=bindparam("until")))
_RENEW = (update(outbox_t).where(_c.id.in_(_IDS), _c.state == "sending")
          .values(lease_until=bindparam("until")))
_RELEASE = (update(outbox_t).where(_c.id.in_(_IDS), _c.state == "sending")
            .values(state="queued", lease_until=None, attempts=_c.attempts - 1))
_SUBMITTED = (update(outbox_t).where(_c.id == bindparam("b_id"))
              .values(state="sent", smsc_id=bindparam("b_smsc"),
                      submitted_at=bindparam("b_now"), lease_until=None))
_BY_SMSC_IDS = select(_c.id, _c.smsc_id).where(_c.smsc_id.in_(_IDS))
_APPLY_FINAL = update(outbox_t).where(_c.id.in_(_IDS)).values(
    state=bindparam("b_state"), receipt_state=bindparam("b_rstate"),
    receipt_at=bindparam("b_at"), last_error=bindparam("b_err"),
)
_APPLY_INTERIM = update(outbox_t).where(_c.id.in_(_IDS)).values(
    receipt_state=bindparam("b_rstate"), receipt_at=bindparam("b_at"),
)
#: Orphans are few (receipts that overtook their submit record by a moment): a submit
#: record reads them all, when there are at most ORPHAN_SCAN, and matches them here
#: rather than asking for every spelling of every id it recorded.
ORPHAN_SCAN = 200
_FIRST_ORPHANS = (select(orphan_t.c.id, orphan_t.c.smsc_id, orphan_t.c.state, orphan_t.c.error)
                  .order_by(orphan_t.c.id).limit(ORPHAN_SCAN + 1))
_ORPHANS_BY_SMSC = (select(orphan_t.c.id, orphan_t.c.smsc_id, orphan_t.c.state, orphan_t.c.error)
                    .where(orphan_t.c.smsc_id.in_(_IDS)).order_by(orphan_t.c.id))
_DELETE_ORPHANS = delete(orphan_t).where(orphan_t.c.id.in_(_IDS))
_INSERT_ORPHANS = insert(orphan_t)


@dataclass(frozen=True)
class OutboxPart:
    """One SMS to queue (erpcore's own type: erpcore does not import gateway)."""

    sender: str
    recipient: str
    text: str
    coding: str
    inbox_id: int | None = None
    link: str | None = None  # preferred link (a hint for routing), if any
    concat_ref: int | None = None
    concat_total: int | None = None
    concat_number: int | None = None


@dataclass(frozen=True)
class DueSms:
    """A claimed outbox row as plain data."""

    id: int
    inbox_id: int | None
    link: str | None
    sender: str
    recipient: str
    text: str
    coding: str
    concat_ref: int | None
    concat_total: int | None
    concat_number: int | None
    attempts: int


class Receipt(Protocol):
    """What `record_receipts` needs (gateway's DeliveryReport fits)."""

    link: str
    smsc_id: str
    state: str
    error: str | None


def enqueue(session: Session, parts: Sequence[OutboxPart], now: datetime) -> int:
    """Queue parts for submission now; returns how many."""
    rows = [_row(p, now) for p in parts]
    if rows:
        execute(session, _INSERT, rows)
    return len(rows)


def enqueue_claimed(
    session: Session, parts: Sequence[OutboxPart], now: datetime, lease: timedelta | float
) -> list[DueSms] | None:
    """Store parts already claimed by the caller, who sends them next (a dispatcher batch
    hands its replies to the sender without the sender claiming them again): as a claim
    would leave them, "sending" with a lease and one attempt, so that if the caller dies
    before submitting, any process takes them after the lease. Returns them as claimed
    rows, or None (nothing stored) where the backend cannot return the new ids in order:
    then `enqueue` them."""
    # The dialect knows what the server can do once connected: ask the connection.
    if not session.connection().dialect.insert_executemany_returning_sort_by_parameter_order:
        return None
    if not parts:
        return []
    lease_until = now + as_timedelta(lease)
    rows = [dict(_row(p, now), state="sending", attempts=1, lease_until=lease_until) for p in parts]
    ids = execute(session, _INSERT_RETURNING_ID, rows).scalars().all()
    return [
        DueSms(oid, r["inbox_id"], r["link"], r["sender"], r["recipient"], r["text"], r["coding"],
               r["concat_ref"], r["concat_total"], r["concat_number"], 1)
        for oid, r in zip(ids, rows)
    ]


def _row(p: OutboxPart, now: datetime) -> dict:
    return {
        "inbox_id": p.inbox_id,
        "link": clip(p.link, LINK_LEN),
        "sender": clip(p.sender, ADDRESS_LEN) or "",
        "recipient": clip(p.recipient, ADDRESS_LEN) or "",
        "text": clip(p.text, 10_000) or "",
        "coding": clip(p.coding, CODING_LEN) or "",
        "concat_ref": p.concat_ref,
        "concat_total": p.concat_total,
        "concat_number": p.concat_number,
        "state": "queued",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def claim_due(
    session: Session, now: datetime, limit: int, lease: timedelta | float, expired: bool = True
) -> list[DueSms]:
    """Take up to `limit` due rows (queued and due, or, with `expired`, sending with an
    expired lease). Looking for expired leases reads every row being sent (thousands
    under load, to find none but after a crash): a caller claiming often looks for
    them only now and then."""
    if limit <= 0:
        return []
    lease = as_timedelta(lease)
    # Two index-ordered queries so that SKIP LOCKED locks only the rows returned; each
    # reads the whole rows it locks (no second read after the UPDATE).
    locking = skip_locked(session)
    rows = _claim_rows(session, _CLAIM_QUERIES[_CLAIM_DUE, locking], limit, now)
    if expired and len(rows) < limit:
        rows += _claim_rows(session, _CLAIM_QUERIES[_CLAIM_EXPIRED, locking], limit - len(rows), now)
    if not rows:
        return []
    execute(session, _TAKE, {"ids": [r.id for r in rows], "until": now + lease})
    return [DueSms(*r[:-1], attempts=r.attempts + 1) for r in sorted(rows, key=lambda r: r.id)]


def _claim_rows(session: Session, query, limit: int, now: datetime) -> list:
    return list(execute(session, query, {"limit": limit, "now": now}))


def renew(session: Session, ids: Sequence[int], until: datetime) -> int:
    """Extend the claim lease of rows still being sent (held, not yet submitted)."""
    count = 0
    for chunk in chunks(list(ids)):
        count += execute(session, _RENEW, {"ids": list(chunk), "until": until}).rowcount or 0
    return count


def release(session: Session, ids: Sequence[int]) -> int:
    """Give claimed rows that were never submitted back to the queue (their claim did
    not count as an attempt)."""
    count = 0
    for chunk in chunks(list(ids)):
        count += execute(session, _RELEASE, {"ids": list(chunk)}).rowcount or 0
    return count


def mark_submitted(
    session: Session, submitted: Sequence[tuple[int, str]], now: datetime
) -> int:
    """Record the SMS centre's ids; returns how many waiting receipts then matched."""
    if not submitted:
        return 0
    by_smsc = {}
    pairs = []
    for oid, smsc_id in submitted:
        sid = normalise_id(smsc_id)
        by_smsc[sid] = oid
        pairs.append((oid, sid))
    if round_trip_each(session):
        for statement, params in _SUBMITTED_BY_ID.statements(dict(pairs), b_now=now):
            execute(session, statement, params)
    else:
        execute(session, _SUBMITTED, [{"b_id": oid, "b_smsc": sid, "b_now": now} for oid, sid in pairs])
    waiting = execute(session, _FIRST_ORPHANS).all()
    if not waiting:
        return 0  # the usual case: no receipt overtook its submit record
    if len(waiting) > ORPHAN_SCAN:  # many: let the database pick ours by id
        return _match_orphans(session, by_smsc, now)
    return _match_orphans(session, by_smsc, now, waiting)


#: The submit record as one statement: each row its own SMS centre id.
_SUBMITTED_BY_ID = KeyedUpdate(_c.id, lambda smsc_id: update(outbox_t).values(
    state="sent", submitted_at=bindparam("b_now"), lease_until=None, smsc_id=smsc_id))


def mark_retry(session: Session, outbox_id: int, next_attempt_at: datetime, error: str) -> None:
    """A transient failure: queue the row again for `next_attempt_at`."""
    session.execute(
        update(outbox_t)
        .where(outbox_t.c.id == outbox_id)
        .values(state="queued", next_attempt_at=next_attempt_at, lease_until=None,
                last_error=clip(error, ERROR_LEN))
    )


def mark_failed(session: Session, outbox_id: int, error: str) -> None:
    """A final failure (permanent rejection or attempts exhausted)."""
    session.execute(
        update(outbox_t)
        .where(outbox_t.c.id == outbox_id)
        .values(state="failed", lease_until=None, last_error=clip(error, ERROR_LEN))
    )


def normalise_id(smsc_id: str) -> str:
    return (clip(smsc_id, SMSC_ID_LEN) or "").strip().lower()


def receipt_id_forms(smsc_id: str) -> set[str]:
    """Every spelling under which the id may have been stored: as given, and read as
    decimal or hex, in the other base, with and without zero padding."""
    s = normalise_id(smsc_id)
    forms = {s} if s else set()
    if not s or len(s) > 40:
        return forms
    numbers = []
    if set(s) <= _DIGITS:
        numbers.append(int(s))
    if set(s) <= _HEX:
        numbers.append(int(s, 16))
    for n in numbers:
        dec = str(n)
        forms.update((dec, dec.zfill(10)))
        hexa = format(n, "x")
        forms.update(hexa.zfill(width) for width in range(len(hexa), MAX_HEX_PAD + 1))
        forms.add(hexa)
    return {f for f in forms if len(f) <= SMSC_ID_LEN}


def _find_rows(session: Session, ids: set[str]) -> dict[str, int]:
    """For each receipt id, the outbox row it belongs to (exact spelling first, then
    the newest row among other spellings)."""
    found = _newest_by_smsc(session, sorted(ids))
    rest = ids - found.keys()  # usually none: the id comes back as it was submitted
    if not rest:
        return found
    forms = {i: receipt_id_forms(i) for i in rest}
    by_smsc = _newest_by_smsc(session, sorted(set().union(*forms.values())))
    for rid, fs in forms.items():
        candidates = [by_smsc[f] for f in fs if f in by_smsc]
        if candidates:
            found[rid] = max(candidates)
    return found


def _newest_by_smsc(session: Session, smsc_ids: list[str]) -> dict[str, int]:
    """The newest outbox row per stored smsc_id among `smsc_ids`."""
    by_smsc: dict[str, int] = {}
    for chunk in chunks(smsc_ids):
        for r in execute(session, _BY_SMSC_IDS, {"ids": list(chunk)}):
            by_smsc[r.smsc_id] = max(r.id, by_smsc.get(r.smsc_id, 0))
    return by_smsc


def _apply(session: Session, updates: list[dict]) -> None:
    """Write receipts (dicts with b_id, b_state, b_rstate, b_at, b_err) onto outbox rows:
    one UPDATE per distinct outcome (usually all DELIVRD at one instant: one statement,
    where a statement per row would be a round trip per receipt on MariaDB)."""
    if len({u["b_id"] for u in updates}) < len(updates):
        # A row with several receipts in one batch: apply them one by one, in order.
        for u in updates:
            _apply(session, [u])
        return
    groups: dict[tuple, list[int]] = {}
    for u in updates:
        groups.setdefault((u["b_state"], u["b_rstate"], u["b_at"], u["b_err"]), []).append(u["b_id"])
    for (state, rstate, at, err), ids in groups.items():
        for chunk in chunks(ids):
            if state is None:  # ACCEPTD, ENROUTE, UNKNOWN: not final, state unchanged
                execute(session, _APPLY_INTERIM, {"ids": list(chunk), "b_rstate": rstate, "b_at": at})
            else:
                execute(session, _APPLY_FINAL, {"ids": list(chunk), "b_state": state, "b_rstate": rstate,
                                                "b_at": at, "b_err": err})


def _update_for(outbox_id: int, state: str, error: str | None, at: datetime) -> dict:
    if state in DELIVERED_STATES:
        new_state = "delivered"
    elif state in UNDELIVERED_STATES:
        new_state = "undelivered"
    else:
        new_state = None  # ACCEPTD, ENROUTE, UNKNOWN: not final, state unchanged
    err = clip(f"receipt {state} err:{error}", ERROR_LEN) if new_state == "undelivered" else None
    return {"b_id": outbox_id, "b_state": new_state, "b_rstate": state, "b_at": at, "b_err": err}


def record_receipts(session: Session, reports: Sequence[Receipt], now: datetime) -> int:
    """Apply delivery receipts to their outbox rows; returns how many matched.

    Unmatched receipts are kept as orphans (matched later if their submit commit was
    still on its way); a receipt without an id is logged and dropped.
    """
    normal = []
    for r in reports:
        rid = normalise_id(r.smsc_id or "")
        if not rid:
            log.warning("receipt without message id on %s dropped", r.link)
            continue
        state = (clip(r.state or "UNKNOWN", RECEIPT_STATE_LEN) or "UNKNOWN").upper()
        normal.append((r, rid, state))
    found = _find_rows(session, {rid for _, rid, _ in normal})
    updates, orphans = [], []
    for r, rid, state in normal:
        if rid in found:
            updates.append(_update_for(found[rid], state, r.error, now))
        else:
            orphans.append({
                "link": clip(r.link, LINK_LEN) or "", "smsc_id": rid, "state": state,
                "error": clip(r.error, ERROR_LEN), "received_at": now,
            })
    _apply(session, updates)
    if orphans:
        execute(session, _INSERT_ORPHANS, orphans)
    return len(updates)


def _match_orphans(session: Session, outbox_by_smsc: dict[str, int], now: datetime,
                   waiting: list | None = None) -> int:
    """Apply waiting orphan receipts to freshly submitted (smsc_id -> outbox id) rows.
    ``waiting``: every orphan there is, already read (oldest first); None to look ours up
    by id (every spelling of every submitted id: a long IN list)."""
    if waiting is not None and all(o.smsc_id in outbox_by_smsc for o in waiting):
        return _apply_orphans(session, outbox_by_smsc, now, waiting)
    owner: dict[str, int] = {}
    for smsc_id, oid in outbox_by_smsc.items():
        for form in receipt_id_forms(smsc_id):
            owner.setdefault(form, oid)
    owner.update(outbox_by_smsc)  # the exact spelling wins
    if waiting is not None:
        waiting = [o for o in waiting if o.smsc_id in owner]
    return _apply_orphans(session, owner, now, waiting)


def _apply_orphans(session: Session, owner: dict[str, int], now: datetime,
                   orphans: list | None = None) -> int:
    """Apply the orphans whose id is a key of `owner` to the row it names; delete them.
    ``orphans``: those orphans, already read (else read here)."""
    if orphans is None:
        orphans = []
        for chunk in chunks(sorted(owner)):
            orphans.extend(execute(session, _ORPHANS_BY_SMSC, {"ids": list(chunk)}).all())
    if not orphans:
        return 0
    # Per row, a final receipt wins over interim ones; among equals the latest.
    best: dict[int, object] = {}
    for o in orphans:
        oid = owner[o.smsc_id]
        prev = best.get(oid)
        if prev is None or _is_final(o.state) or not _is_final(prev.state):
            best[oid] = o
    _apply(session, [_update_for(oid, o.state, o.error, now) for oid, o in best.items()])
    for chunk in chunks([o.id for o in orphans]):
        execute(session, _DELETE_ORPHANS, {"ids": list(chunk)})
    return len(best)


def _is_final(state: str) -> bool:
    return state in DELIVERED_STATES or state in UNDELIVERED_STATES


def rematch_orphans(session: Session, now: datetime, limit: int = 500) -> int:
    """Match orphans again: closes the race where a receipt's transaction and the submit
    record's transaction ran at the same time and neither saw the other."""
    ids = session.execute(
        select(orphan_t.c.smsc_id).order_by(orphan_t.c.id).limit(limit)
    ).scalars().all()
    if not ids:
        return 0
    return _apply_orphans(session, _find_rows(session, set(ids)), now)


def prune_orphans(session: Session, older_than: datetime) -> int:
    """Forget receipts that never found their message (logged by count)."""
    result = session.execute(delete(orphan_t).where(orphan_t.c.received_at < older_than))
    if result.rowcount:
        log.info("dropped %d unmatched delivery receipts", result.rowcount)
    return result.rowcount or 0


def count_by_state(session: Session) -> dict[str, int]:
    """Outbox rows per state (for metrics and tests)."""
    rows = session.execute(select(outbox_t.c.state, func.count()).group_by(outbox_t.c.state))
    return {state: n for state, n in rows}
