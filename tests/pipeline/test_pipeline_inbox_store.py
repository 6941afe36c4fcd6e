"""erpcore.inbox: deduplication, durable long-MO reassembly and expiry, claims."""
from __future__ import annotations

from datetime import timedelta
from itertools import permutations

import pytest

from erpcore import inbox
from erpcore.messaging_models import Inbox, InboxPart
from gateway.messages import ConcatInfo, InboundSms


def mo(text="hi", smsc_id="m1", link="smsc1", sender="13800000001", concat=None):
    return InboundSms(link=link, sender=sender, recipient="106571234501", text=text,
                      smsc_id=smsc_id, concat=concat)


def part(number, total=3, ref=7, smsc_id=None, text=None, sender="13800000001"):
    return mo(text=text or f"<{number}>", smsc_id=smsc_id or f"p{ref}-{number}",
              sender=sender, concat=ConcatInfo(ref, total, number))


def store(sessionmaker, msgs, now):
    with sessionmaker.begin() as session:
        return inbox.store(session, msgs, now)


def test_the_same_smsc_id_twice_makes_one_inbox_row(sessionmaker, rows, now):
    assert store(sessionmaker, [mo()], now) == ["stored"]
    assert store(sessionmaker, [mo(text="resent")], now) == ["duplicate"]
    assert [r["text"] for r in rows(Inbox)] == ["hi"]


def test_a_repeat_inside_one_batch_is_a_duplicate_too(sessionmaker, rows, now):
    assert store(sessionmaker, [mo(), mo()], now) == ["stored", "duplicate"]
    assert len(rows(Inbox)) == 1


def test_the_same_id_on_two_links_is_two_messages(sessionmaker, rows, now):
    assert store(sessionmaker, [mo(link="a"), mo(link="b")], now) == ["stored", "stored"]
    assert len(rows(Inbox)) == 2


def test_messages_without_an_smsc_id_never_collide(sessionmaker, rows, now):
    assert store(sessionmaker, [mo(smsc_id=None), mo(smsc_id=None)], now) == ["stored"] * 2
    assert store(sessionmaker, [mo(smsc_id=None)], now) == ["stored"]
    assert len(rows(Inbox)) == 3


@pytest.mark.parametrize("order", list(permutations([1, 2, 3])))
def test_long_mo_parts_in_any_order_make_one_mo(sessionmaker, rows, now, order):
    answers = [store(sessionmaker, [part(n)], now)[0] for n in order]
    assert answers == ["part", "part", "stored"]  # the completing part creates the MO
    (whole,) = rows(Inbox)
    assert whole["text"] == "<1><2><3>"
    assert whole["incomplete"] is False and whole["state"] == "new"
    assert rows(InboxPart) == []


def test_all_parts_in_one_batch_assemble_in_that_transaction(sessionmaker, rows, now):
    assert store(sessionmaker, [part(2), part(3), part(1)], now) == ["part", "part", "stored"]
    assert [r["text"] for r in rows(Inbox)] == ["<1><2><3>"]


def test_duplicate_parts_are_ignored(sessionmaker, rows, now):
    store(sessionmaker, [part(1)], now)
    # the same part again (same id), and the same position under another id
    assert store(sessionmaker, [part(1), part(1, smsc_id="other", text="X")], now) == [
        "duplicate", "duplicate"]
    assert store(sessionmaker, [part(2), part(3)], now) == ["part", "stored"]
    assert [r["text"] for r in rows(Inbox)] == ["<1><2><3>"]


def test_a_part_resent_after_assembly_does_not_start_a_new_long_mo(sessionmaker, rows, now):
    store(sessionmaker, [part(1), part(2), part(3)], now)
    assert store(sessionmaker, [part(2)], now) == ["duplicate"]
    assert rows(InboxPart) == []
    assert len(rows(Inbox)) == 1


def test_two_senders_with_the_same_reference_stay_apart(sessionmaker, rows, now):
    store(sessionmaker, [part(1, total=2, sender="a"), part(1, total=2, sender="b",
                                                           smsc_id="b1")], now)
    store(sessionmaker, [part(2, total=2, sender="b", smsc_id="b2")], now)
    assert [(r["sender"], r["text"]) for r in rows(Inbox)] == [("b", "<1><2>")]


def test_an_incomplete_long_mo_expires_as_its_partial_text(sessionmaker, rows, now):
    store(sessionmaker, [part(3), part(1)], now)
    with sessionmaker.begin() as session:
        assert inbox.expire_parts(session, now) == 0  # not idle long enough yet
    with sessionmaker.begin() as session:
        assert inbox.expire_parts(session, now + timedelta(seconds=1)) == 1
    (whole,) = rows(Inbox)
    assert whole["text"] == "<1><3>" and whole["incomplete"] is True
    assert rows(InboxPart) == []


def test_a_complete_group_left_unassembled_expires_as_complete(sessionmaker, rows, now):
    """Two processes storing the last two parts at once may both miss completion."""
    with sessionmaker.begin() as session:
        session.execute(InboxPart.__table__.insert(), [
            dict(link="smsc1", smsc_id=f"x{n}", sender="s", recipient="r", reference=1,
                 total=2, number=n, text=str(n), received_at=now) for n in (1, 2)])
    with sessionmaker.begin() as session:
        assert inbox.expire_parts(session, now + timedelta(seconds=1)) == 1
    assert [(r["text"], r["incomplete"]) for r in rows(Inbox)] == [("12", False)]


def test_a_part_with_an_impossible_position_is_stored_as_a_whole_mo(sessionmaker, rows, now):
    bad = mo(text="odd", concat=ConcatInfo(reference=1, total=2, number=5))
    assert store(sessionmaker, [bad], now) == ["stored"]
    assert [r["text"] for r in rows(Inbox)] == ["odd"]


def test_oversized_fields_and_unstorable_text_do_not_fail_the_batch(sessionmaker, rows, now):
    odd = mo(text="a\ud800b", sender="9" * 200, smsc_id="i" * 300)
    assert store(sessionmaker, [odd, mo(smsc_id="fine")], now) == ["stored", "stored"]
    first = rows(Inbox)[0]
    assert first["text"] == "a?b" and len(first["sender"]) == 64


def test_claim_takes_new_mos_once_until_the_lease_runs_out(sessionmaker, now):
    store(sessionmaker, [mo(smsc_id="a"), mo(smsc_id="b"), mo(smsc_id="c")], now)
    with sessionmaker.begin() as session:
        first = inbox.claim(session, 2, now, 60)
    with sessionmaker.begin() as session:
        second = inbox.claim(session, 10, now, 60)
    assert [m.smsc_id for m in first] == ["a", "b"] and [m.smsc_id for m in second] == ["c"]
    assert all(m.attempts == 1 for m in first + second)
    with sessionmaker.begin() as session:
        assert inbox.claim(session, 10, now + timedelta(seconds=59), 60) == []
        inbox.mark_done(session, [first[0].id], now)
    with sessionmaker.begin() as session:
        again = inbox.claim(session, 10, now + timedelta(seconds=61), 60)
    assert [(m.smsc_id, m.attempts) for m in again] == [("b", 2), ("c", 2)]


def test_concurrent_claims_skip_locked_rows(sessionmaker, now, engine):
    """On MariaDB two gateway processes claim disjoint MOs (SELECT ... SKIP LOCKED)."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer and no row locks")
    store(sessionmaker, [mo(smsc_id=str(i)) for i in range(4)], now)
    with sessionmaker.begin() as first:
        mine = inbox.claim(first, 2, now, 60)
        with sessionmaker.begin() as second:
            theirs = inbox.claim(second, 10, now, 60)
    assert {m.smsc_id for m in mine} == {"0", "1"}
    assert {m.smsc_id for m in theirs} == {"2", "3"}
