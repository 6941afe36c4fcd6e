"""Document numbers: short and per enterprise (``1001``, ``1002`` ...), so that an
approver can answer ``Y 1001`` by SMS. One row per enterprise and sequence name holds the
next number; taking numbers locks it until the transaction ends."""
from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import ForeignKey, String, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.keyed_update import KeyedUpdate

FIRST_NUMBER = 1001


class DocumentSequence(Base):
    """The next number to hand out, per enterprise and sequence name."""

    __tablename__ = "document_sequences"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_value: Mapped[int]


def reserve_numbers(session: Session, enterprise_id: int, count: int = 1, name: str = "order") -> list[str]:
    """Take the next ``count`` numbers of the enterprise's sequence. The UPDATE locks the
    row until the transaction ends, so concurrent writers never share a number. The
    UPDATE also hands back the new value where the database can (RETURNING on SQLite,
    LAST_INSERT_ID(expr) on MySQL/MariaDB), saving the SELECT that reads it."""
    params = {"sequence_enterprise": enterprise_id, "sequence_name": name, "count": count}
    dialect = session.get_bind().dialect
    end = None
    if dialect.update_returning:
        end = session.scalar(_BUMP_RETURNING, params)
        bumped = end is not None
    elif dialect.name in ("mysql", "mariadb"):
        result = session.execute(_BUMP_LAST_INSERT_ID, params)
        bumped = bool(result.rowcount)
        end = result.lastrowid if bumped else None
    else:
        bumped = bool(session.execute(_BUMP, params).rowcount)
    if not bumped:
        try:
            with session.begin_nested():
                session.add(DocumentSequence(enterprise_id=enterprise_id, name=name, next_value=FIRST_NUMBER + count))
            return [str(FIRST_NUMBER + i) for i in range(count)]
        except IntegrityError:  # another transaction created it first: bump that one
            return reserve_numbers(session, enterprise_id, count, name)
    if not end:
        end = session.scalar(_NEXT_VALUE, params)
    return [str(value) for value in range(end - count, end)]


# Built once (building and cache-keying a statement per call cost more than running it).
_SEQUENCES = DocumentSequence.__table__
_THIS_SEQUENCE = (_SEQUENCES.c.enterprise_id == bindparam("sequence_enterprise"),
                  _SEQUENCES.c.name == bindparam("sequence_name"))
_BUMP = update(_SEQUENCES).where(*_THIS_SEQUENCE).values(next_value=_SEQUENCES.c.next_value + bindparam("count"))
_BUMP_RETURNING = _BUMP.returning(_SEQUENCES.c.next_value)
_BUMP_LAST_INSERT_ID = update(_SEQUENCES).where(*_THIS_SEQUENCE).values(
    next_value=func.last_insert_id(_SEQUENCES.c.next_value + bindparam("count")))
_NEXT_VALUE = select(_SEQUENCES.c.next_value).where(*_THIS_SEQUENCE)


def _bump_by(count):
    return update(_SEQUENCES).where(_SEQUENCES.c.name == bindparam("sequence_name")).values(
        next_value=_SEQUENCES.c.next_value + count)


# Each enterprise's sequence by its own count (reserve_many).
_BUMP_EACH = KeyedUpdate(_SEQUENCES.c.enterprise_id, _bump_by)
_BUMP_EACH_RETURNING = KeyedUpdate(_SEQUENCES.c.enterprise_id, lambda count: _bump_by(count).returning(
    _SEQUENCES.c.enterprise_id, _SEQUENCES.c.next_value))


_HOLD = update(_SEQUENCES).where(
    _SEQUENCES.c.name == bindparam("sequence_name"),
    _SEQUENCES.c.enterprise_id.in_(bindparam("ids", expanding=True)),
).values(next_value=_SEQUENCES.c.next_value)


def hold(session: Session, enterprise_ids: Iterable[int], name: str = "order") -> None:
    """Lock these enterprises' sequence rows now, in key order, for numbers taken later in
    the transaction. A dispatcher batch takes numbers in rounds, each for some of its
    enterprises: two batches holding some rows and then asking for others deadlocked, on
    these rows or on the stock levels a round between them changed. Holding every row
    the batch may need first, in one statement, takes them in one order. Rows not made
    yet are not held (their first numbers are an INSERT); SQLite has one writer at a
    time and nothing to hold."""
    ids = sorted(set(enterprise_ids))
    if not ids or not _row_locks(session):
        return
    session.execute(_HOLD, {"sequence_name": name, "ids": ids})


def _row_locks(session: Session) -> bool:
    return session.get_bind().dialect.name != "sqlite"


def reserve_many(session: Session, counts: Mapping[int, int], name: str = "order") -> dict[int, list[str]]:
    """``reserve_numbers`` for several enterprises at once (a dispatcher batch's orders):
    one UPDATE bumps every sequence, locking the rows in key order (two batches never
    wait on each other in opposite orders), and the new values come back with it
    (RETURNING) or from one SELECT after it. Enterprises without their sequence row yet
    get theirs in one INSERT (one by one, as ``reserve_numbers`` does, if another
    transaction made one of them first)."""
    wanted = {enterprise_id: count for enterprise_id, count in counts.items() if count > 0}
    if len(wanted) <= 1:
        return {enterprise_id: reserve_numbers(session, enterprise_id, count, name)
                for enterprise_id, count in wanted.items()}
    ids = sorted(wanted)
    if session.get_bind().dialect.update_returning:
        ends = {}
        for statement, params in _BUMP_EACH_RETURNING.statements(wanted, sequence_name=name):
            ends.update(session.execute(statement, params).all())
    else:
        for statement, params in _BUMP_EACH.statements(wanted, sequence_name=name):
            session.execute(statement, params)
        # A plain read: it sees this transaction's own bumps, and the UPDATE's locks keep
        # the rows as they are. A locking read would lock every row it scans, others'
        # rows too, and wait for them (MariaDB scans this small table): two batches
        # then deadlocked, each holding rows the other's read scanned.
        ends = dict(session.execute(
            select(_SEQUENCES.c.enterprise_id, _SEQUENCES.c.next_value)
            .where(_SEQUENCES.c.name == name, _SEQUENCES.c.enterprise_id.in_(ids))).all())
    missing = [enterprise_id for enterprise_id in ids if enterprise_id not in ends]
    if missing:
        try:  # the first numbers of these enterprises: their rows, in one INSERT
            with session.begin_nested():
                session.execute(insert(_SEQUENCES), [
                    {"enterprise_id": eid, "name": name, "next_value": FIRST_NUMBER + wanted[eid]} for eid in missing])
            ends.update({eid: FIRST_NUMBER + wanted[eid] for eid in missing})
        except IntegrityError:  # another transaction made one first: each as reserve_numbers does
            pass
    return {enterprise_id: ([str(value) for value in range(ends[enterprise_id] - wanted[enterprise_id],
                                                           ends[enterprise_id])]
                            if enterprise_id in ends else reserve_numbers(session, enterprise_id, wanted[enterprise_id],
                                                                          name))
            for enterprise_id in ids}


def next_number(session: Session, enterprise_id: int, name: str = "order") -> str:
    return reserve_numbers(session, enterprise_id, 1, name)[0]
