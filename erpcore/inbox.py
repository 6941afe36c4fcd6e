"""The durable inbox: store MOs (deduplicated, long ones reassembled), claim, mark done.

SQLAlchemy Core in batches: the inbox writer stores everything that arrived while the
previous write was in flight in one transaction, and the link acknowledges each MO only
after that commit (ARCHITECTURE.md, "no-loss rule"). Functions take a Session inside the
caller's transaction and never commit.

Bad input never raises here: over-long fields are clipped, text that cannot be stored
(lone surrogates) is replaced, and a part with an impossible position is stored as a
whole MO, because a raise would fail the whole group and make the SMS centre redeliver
the batch forever.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Integer, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from erpcore.messaging_models import (
    ADDRESS_LEN,
    COMMAND_LEN,
    LINK_LEN,
    SMSC_ID_LEN,
    CommandLog,
    Inbox,
    InboxPart,
    InboxSeenPart,
)

log = logging.getLogger(__name__)

inbox_t = Inbox.__table__
part_t = InboxPart.__table__
seen_t = InboxSeenPart.__table__
log_t = CommandLog.__table__

STORED = "stored"
DUPLICATE = "duplicate"
PART = "part"

#: Largest IN (...) list sent at once (SQLite's old limit was 999 bound parameters).
CHUNK = 500

# Hot-path statements, built once: per batch, building and cache-keying statements cost
# more than running them. Values go in as bind parameters (IN lists "expanding").
_IDS = bindparam("ids", expanding=True)
_INSERT_INBOX = insert(inbox_t)
_INSERT_LOG = insert(log_t)
_EXISTING = {
    table.name: select(table.c.smsc_id).where(
        table.c.link == bindparam("link"), table.c.smsc_id.in_(bindparam("smsc_ids", expanding=True))
    )
    for table in (inbox_t, part_t, seen_t)
}
_CLAIM_COLUMNS = (
    inbox_t.c.id, inbox_t.c.link, inbox_t.c.smsc_id, inbox_t.c.sender,
    inbox_t.c.recipient, inbox_t.c.text, inbox_t.c.incomplete, inbox_t.c.attempts,
)
_CLAIM_NEW = select(*_CLAIM_COLUMNS).where(inbox_t.c.state == "new").order_by(inbox_t.c.id).limit(
    bindparam("limit", type_=Integer, literal_execute=True)
)
_CLAIM_EXPIRED = (
    select(*_CLAIM_COLUMNS)
    .where(inbox_t.c.state == "processing", inbox_t.c.lease_until < bindparam("now"))
    .order_by(inbox_t.c.id)
    .limit(bindparam("limit", type_=Integer, literal_execute=True))
)
_CLAIM_QUERIES = {
    (query, locking): query.with_for_update(skip_locked=True) if locking else query
    for query in (_CLAIM_NEW, _CLAIM_EXPIRED)
    for locking in (False, True)
}
_TAKE = (
    update(inbox_t)
    .where(inbox_t.c.id.in_(_IDS))
    .values(
        state="processing",
        claimed_at=bindparam("now"),
        lease_until=bindparam("until"),
        attempts=inbox_t.c.attempts + 1,
    )
)
_RELEASE = (
    update(inbox_t)
    .where(inbox_t.c.id.in_(_IDS), inbox_t.c.state == "processing")
    .values(state="new", lease_until=None)
)
_DONE = (
    update(inbox_t)
    .where(inbox_t.c.id.in_(_IDS))
    .values(state="done", done_at=bindparam("now"), lease_until=None)
)
_RENEW = update(inbox_t).where(inbox_t.c.id.in_(_IDS)).values(lease_until=bindparam("until"))


def execute(session: Session, statement, params=None):
    """Run a Core statement on the session's connection (in its transaction), skipping
    the ORM's per-call statement handling."""
    return session.connection().execute(statement, params)


class Concat(Protocol):
    reference: int
    total: int
    number: int


class Message(Protocol):
    """What `store` needs of an inbound message (gateway's InboundSms fits)."""

    link: str
    sender: str
    recipient: str
    text: str
    smsc_id: str | None
    concat: Concat | None


@dataclass(frozen=True)
class StoredMo:
    """A claimed MO as plain data, safe to hand to another thread."""

    id: int
    link: str
    smsc_id: str | None
    sender: str
    recipient: str
    text: str
    incomplete: bool
    attempts: int


def clip(value: str | None, length: int) -> str | None:
    """Fit a value into its column instead of failing the whole batch."""
    if value is None:
        return None
    return clean_text(value)[:length]


def clean_text(text: str) -> str:
    """Text every backend can store: lone surrogates become '?'."""
    return text.encode("utf-8", "replace").decode("utf-8")


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def as_timedelta(lease: timedelta | float) -> timedelta:
    return lease if isinstance(lease, timedelta) else timedelta(seconds=lease)


def skip_locked(session: Session) -> bool:
    """Row claims lock with SKIP LOCKED where the backend has it (not SQLite)."""
    return session.get_bind().dialect.name != "sqlite"


def round_trip_each(session: Session) -> bool:
    """Whether every statement costs a round trip to a server (MySQL/MariaDB: pymysql sends
    an executemany UPDATE row by row), so that one bigger statement beats many small ones;
    not so for the embedded SQLite."""
    return session.get_bind().dialect.name != "sqlite"


def _is_part(msg: Message) -> bool:
    c = msg.concat
    if c is None:
        return False
    valid = 0 <= c.reference <= 65535 and 1 <= c.number <= c.total <= 255
    if not valid:
        log.warning("impossible concat info %r from %s; storing as a whole MO", c, msg.link)
    return valid and c.total > 1


def _existing(session: Session, table, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (link, smsc_id) pairs `table` already holds."""
    by_link: dict[str, list[str]] = {}
    for link, smsc_id in pairs:
        by_link.setdefault(link, []).append(smsc_id)
    found: set[tuple[str, str]] = set()
    for link, ids in by_link.items():
        for chunk in chunks(ids):
            rows = execute(session, _EXISTING[table.name], {"link": link, "smsc_ids": list(chunk)})
            found.update((link, r.smsc_id) for r in rows)
    return found


def store(session: Session, msgs: Sequence[Message], now: datetime) -> list[str]:
    """Store a batch; per message "stored", "duplicate" or "part" (in input order).

    A part that completes its long MO answers "stored": that is when a new MO exists.
    """
    results: list[str | None] = [None] * len(msgs)
    whole: list[tuple[int, dict]] = []
    parts: list[tuple[int, dict]] = []
    for i, msg in enumerate(msgs):
        row = {
            "link": clip(msg.link, LINK_LEN) or "",
            "smsc_id": clip(msg.smsc_id, SMSC_ID_LEN),
            "sender": clip(msg.sender, ADDRESS_LEN) or "",
            "recipient": clip(msg.recipient, ADDRESS_LEN) or "",
            "text": clean_text(msg.text or ""),
            "received_at": now,
        }
        if _is_part(msg):
            c = msg.concat
            row.update(reference=c.reference, total=c.total, number=c.number)
            parts.append((i, row))
        else:
            whole.append((i, row))

    _store_whole(session, whole, results)
    _store_parts(session, parts, results, now)
    return [r or DUPLICATE for r in results]


def _store_whole(session: Session, whole: list[tuple[int, dict]], results: list) -> None:
    keys = {(r["link"], r["smsc_id"]) for _, r in whole if r["smsc_id"] is not None}
    seen = _existing(session, inbox_t, keys) if keys else set()
    rows = []
    for i, row in whole:
        key = (row["link"], row["smsc_id"])
        if row["smsc_id"] is not None and key in seen:
            results[i] = DUPLICATE
            continue
        if row["smsc_id"] is not None:
            seen.add(key)  # the same id twice in one batch
        rows.append(dict(row, incomplete=False, state="new", attempts=0))
        results[i] = STORED
    if rows:
        execute(session, _INSERT_INBOX, rows)


def _store_parts(session: Session, parts: list[tuple[int, dict]], results: list, now) -> None:
    if not parts:
        return
    keys = {(r["link"], r["smsc_id"]) for _, r in parts if r["smsc_id"] is not None}
    seen_ids = (_existing(session, part_t, keys) | _existing(session, seen_t, keys)) if keys else set()
    groups = {(r["link"], r["sender"], r["reference"], r["total"]) for _, r in parts}
    present = _present_numbers(session, groups)
    fresh: list[dict] = []
    completing: dict[tuple, int] = {}
    for i, row in parts:
        group = (row["link"], row["sender"], row["reference"], row["total"])
        numbers = present.setdefault(group, set())
        id_key = (row["link"], row["smsc_id"])
        if (row["smsc_id"] is not None and id_key in seen_ids) or row["number"] in numbers:
            results[i] = DUPLICATE
            continue
        if row["smsc_id"] is not None:
            seen_ids.add(id_key)
        numbers.add(row["number"])
        fresh.append(row)
        results[i] = PART
        if len(numbers) == row["total"]:
            completing[group] = i
    if fresh:
        session.execute(insert(part_t), fresh)
    for group, i in completing.items():
        _assemble(session, group, now, incomplete=False)
        results[i] = STORED


def _present_numbers(session: Session, groups: set[tuple]) -> dict[tuple, set[int]]:
    """Part numbers already stored, per (link, sender, reference, total)."""
    present: dict[tuple, set[int]] = {}
    group_list = sorted(groups)
    for chunk in chunks(group_list, 100):
        cond = or_(
            *(
                and_(
                    part_t.c.link == link,
                    part_t.c.sender == sender,
                    part_t.c.reference == ref,
                    part_t.c.total == total,
                )
                for link, sender, ref, total in chunk
            )
        )
        rows = session.execute(
            select(part_t.c.link, part_t.c.sender, part_t.c.reference, part_t.c.total,
                   part_t.c.number).where(cond)
        )
        for r in rows:
            present.setdefault((r.link, r.sender, r.reference, r.total), set()).add(r.number)
    return present


def _assemble(session: Session, group: tuple, now: datetime, incomplete: bool) -> None:
    """Turn the stored parts of one long MO into one inbox row; forget the parts."""
    link, sender, ref, total = group
    where = and_(
        part_t.c.link == link,
        part_t.c.sender == sender,
        part_t.c.reference == ref,
        part_t.c.total == total,
    )
    rows = session.execute(
        select(part_t.c.smsc_id, part_t.c.recipient, part_t.c.text, part_t.c.number)
        .where(where)
        .order_by(part_t.c.number)
    ).all()
    if not rows:
        return
    session.execute(
        insert(inbox_t),
        [
            {
                "link": link,
                "smsc_id": None,  # the parts' ids are remembered in inbox_seen_part
                "sender": sender,
                "recipient": rows[0].recipient,
                "text": "".join(r.text for r in rows),
                "incomplete": incomplete,
                "state": "new",
                "attempts": 0,
                "received_at": now,
            }
        ],
    )
    seen = [{"link": link, "smsc_id": r.smsc_id, "seen_at": now} for r in rows if r.smsc_id]
    if seen:
        session.execute(insert(seen_t), seen)
    session.execute(delete(part_t).where(where))


def expire_parts(
    session: Session, older_than: datetime, seen_older_than: datetime | None = None
) -> int:
    """Deliver long MOs whose parts stopped coming before `older_than`; count them.

    Choice (documented in ARCHITECTURE's spirit of "never lose"): what arrived is joined in
    part order and stored as one MO marked `incomplete`, so the user still gets an answer
    (often "unknown command"), rather than silence. Also forgets assembled part ids seen
    before `seen_older_than` (default: `older_than`).
    """
    groups = session.execute(
        select(part_t.c.link, part_t.c.sender, part_t.c.reference, part_t.c.total)
        .group_by(part_t.c.link, part_t.c.sender, part_t.c.reference, part_t.c.total)
        .having(func.max(part_t.c.received_at) < older_than)
    ).all()
    for g in groups:
        group = (g.link, g.sender, g.reference, g.total)
        count = session.execute(
            select(func.count()).select_from(part_t).where(
                part_t.c.link == g.link,
                part_t.c.sender == g.sender,
                part_t.c.reference == g.reference,
                part_t.c.total == g.total,
            )
        ).scalar_one()
        _assemble(session, group, older_than, incomplete=count < g.total)
        log.info("long MO from %s ref %s expired with %d/%d parts", g.sender, g.reference,
                 count, g.total)
    session.execute(delete(seen_t).where(seen_t.c.seen_at < (seen_older_than or older_than)))
    return len(groups)


def claim(
    session: Session, limit: int, now: datetime, lease: timedelta | float
) -> list[StoredMo]:
    """Take up to `limit` new (or abandoned: lease expired) MOs for processing."""
    lease = as_timedelta(lease)
    # Two queries, each walking an index in claim order, so that with SKIP LOCKED only
    # the rows returned get locked (one OR query sorts first and locks every match).
    # Each reads the whole rows it locks: one round trip less than reading them again.
    if limit <= 0:
        return []
    locking = skip_locked(session)
    rows = _claim_rows(session, _CLAIM_QUERIES[_CLAIM_NEW, locking], limit, now)
    if len(rows) < limit:
        rows += _claim_rows(session, _CLAIM_QUERIES[_CLAIM_EXPIRED, locking], limit - len(rows), now)
    if not rows:
        return []
    execute(session, _TAKE, {"ids": [r.id for r in rows], "now": now, "until": now + lease})
    return [StoredMo(*r[:-1], attempts=r.attempts + 1) for r in sorted(rows, key=lambda r: r.id)]


def _claim_rows(session: Session, query, limit: int, now: datetime) -> list:
    return list(execute(session, query, {"limit": limit, "now": now}))


def release(session: Session, ids: Sequence[int]) -> int:
    """Give claimed MOs whose batch failed back at once (their attempts stay counted), so
    they are taken again without waiting out the lease; those already done stay done."""
    count = 0
    for chunk in chunks(list(ids)):
        count += execute(session, _RELEASE, {"ids": list(chunk)}).rowcount or 0
    return count


def mark_done(session: Session, ids: Sequence[int], now: datetime) -> None:
    """The MOs' commands ran and their replies are queued (same transaction)."""
    for chunk in chunks(list(ids)):
        execute(session, _DONE, {"ids": list(chunk), "now": now})


def renew(session: Session, ids: Sequence[int], until: datetime) -> None:
    """Extend the lease of MOs about to be processed, so that a batch that waited in
    the pool's queue is not claimed again by another worker meanwhile."""
    for chunk in chunks(list(ids)):
        execute(session, _RENEW, {"ids": list(chunk), "until": until})


def log_command(
    session: Session,
    inbox_id: int,
    command: str,
    ok: bool,
    now: datetime,
    enterprise_id: int | None = None,
    user_id: int | None = None,
) -> None:
    """Write the business log row; a second row for the same MO is an IntegrityError
    (exactly-once business effects, enforced by the database)."""
    log_commands(session, [command_log_row(inbox_id, command, ok, now, enterprise_id, user_id)])


def command_log_row(
    inbox_id: int,
    command: str,
    ok: bool,
    now: datetime,
    enterprise_id: int | None = None,
    user_id: int | None = None,
) -> dict:
    """The command_log row for one MO, for `log_commands`."""
    return {
        "inbox_id": inbox_id,
        "enterprise_id": enterprise_id,
        "user_id": user_id,
        "command": clip(command or "", COMMAND_LEN) or "",
        "ok": bool(ok),
        "created_at": now,
    }


def log_commands(session: Session, rows: Sequence[dict]) -> None:
    """Write several command_log rows in one statement (see `log_command`)."""
    if rows:
        execute(session, _INSERT_LOG, list(rows))


def pending_count(session: Session) -> int:
    """MOs not yet done (for metrics and tests)."""
    return session.execute(
        select(func.count()).select_from(inbox_t).where(inbox_t.c.state != "done")
    ).scalar_one()
