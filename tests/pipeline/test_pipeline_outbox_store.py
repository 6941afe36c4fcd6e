"""erpcore.outbox: claims, retries, and delivery receipts matched in hex or decimal."""
from __future__ import annotations

from datetime import timedelta

import pytest

from erpcore import outbox
from erpcore.messaging_models import Outbox, ReceiptOrphan
from gateway.messages import DeliveryReport


def queue(sessionmaker, now, count=1):
    with sessionmaker.begin() as session:
        outbox.enqueue(session, [
            outbox.OutboxPart(sender="1065712345", recipient=f"1380000000{i}",
                              text=f"reply {i}", coding="gsm7")
            for i in range(count)
        ], now)
    with sessionmaker() as session:
        return list(session.execute(Outbox.__table__.select().order_by(Outbox.id)))


def claim(sessionmaker, now, limit=10, lease=60):
    with sessionmaker.begin() as session:
        return outbox.claim_due(session, now, limit, lease)


def submitted(sessionmaker, now, pairs):
    with sessionmaker.begin() as session:
        return outbox.mark_submitted(session, pairs, now)


def receipts(sessionmaker, now, *reports):
    with sessionmaker.begin() as session:
        return outbox.record_receipts(session, reports, now)


def report(smsc_id, state="DELIVRD", error=None):
    return DeliveryReport(link="smsc1", smsc_id=smsc_id, state=state, error=error)


def test_claim_due_takes_queued_rows_once_and_counts_attempts(sessionmaker, now, rows):
    queue(sessionmaker, now, 3)
    first = claim(sessionmaker, now, limit=2)
    assert [r.text for r in first] == ["reply 0", "reply 1"]
    assert [r.text for r in claim(sessionmaker, now)] == ["reply 2"]
    assert claim(sessionmaker, now + timedelta(seconds=59)) == []
    assert {r["state"] for r in rows(Outbox)} == {"sending"}
    assert all(r.attempts == 1 for r in first)


def test_a_sending_row_whose_lease_ran_out_is_claimed_again(sessionmaker, now):
    queue(sessionmaker, now)
    claim(sessionmaker, now, lease=60)
    again = claim(sessionmaker, now + timedelta(seconds=61))
    assert [r.attempts for r in again] == [2]


def test_a_claim_that_does_not_look_for_expired_leases_takes_only_queued_rows(sessionmaker, now):
    queue(sessionmaker, now, 2)
    (first,) = claim(sessionmaker, now, limit=1, lease=60)
    later = now + timedelta(seconds=61)
    with sessionmaker.begin() as session:
        assert [r.id for r in outbox.claim_due(session, later, 10, 60, expired=False)] == [first.id + 1]
        assert outbox.claim_due(session, later, 10, 60, expired=False) == []
    with sessionmaker.begin() as session:
        assert [(r.id, r.attempts) for r in outbox.claim_due(session, later, 10, 60)] == [(first.id, 2)]


def test_a_retried_row_waits_until_it_is_due(sessionmaker, now, rows):
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    with sessionmaker.begin() as session:
        outbox.mark_retry(session, row.id, now + timedelta(seconds=4), "throttled")
    assert claim(sessionmaker, now + timedelta(seconds=3)) == []
    assert [r.id for r in claim(sessionmaker, now + timedelta(seconds=4))] == [row.id]
    assert rows(Outbox)[0]["last_error"] == "throttled"


def test_a_failed_row_is_never_claimed(sessionmaker, now, rows):
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    with sessionmaker.begin() as session:
        outbox.mark_failed(session, row.id, "invalid destination")
    assert claim(sessionmaker, now + timedelta(days=1)) == []
    assert rows(Outbox)[0]["state"] == "failed"


def test_submit_ids_are_stored_lowercased(sessionmaker, now, rows):
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    submitted(sessionmaker, now, [(row.id, "0A1B2C3D")])
    (stored,) = rows(Outbox)
    assert (stored["state"], stored["smsc_id"]) == ("sent", "0a1b2c3d")


@pytest.mark.parametrize(
    ("submit_id", "receipt_id"),
    [
        ("0A1B2C3D", "169552957"),  # hex at submit, decimal in the receipt
        ("169552957", "a1b2c3d"),  # decimal at submit, hex in the receipt
        ("abc123", "ABC123"),  # the same id in another case
        ("12345", "12345"),
    ],
)
def test_a_receipt_matches_its_submit_in_hex_or_decimal(sessionmaker, now, rows,
                                                        submit_id, receipt_id):
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    submitted(sessionmaker, now, [(row.id, submit_id)])
    assert receipts(sessionmaker, now, report(receipt_id)) == 1
    (stored,) = rows(Outbox)
    assert (stored["state"], stored["receipt_state"]) == ("delivered", "DELIVRD")


def test_an_exact_spelling_wins_over_another_base(sessionmaker, now, rows):
    """'10' is decimal ten and hex sixteen; a row submitted as '10' gets the receipt."""
    queue(sessionmaker, now, 2)
    first, second = claim(sessionmaker, now)
    submitted(sessionmaker, now, [(first.id, "16"), (second.id, "10")])
    receipts(sessionmaker, now, report("10"))
    assert [r["state"] for r in rows(Outbox)] == ["sent", "delivered"]


def test_undelivered_and_interim_receipts(sessionmaker, now, rows):
    queue(sessionmaker, now, 2)
    first, second = claim(sessionmaker, now)
    submitted(sessionmaker, now, [(first.id, "a1"), (second.id, "a2")])
    receipts(sessionmaker, now, report("a1", "UNDELIV", "001"), report("a2", "ENROUTE"))
    one, two = rows(Outbox)
    assert (one["state"], one["last_error"]) == ("undelivered", "receipt UNDELIV err:001")
    assert (two["state"], two["receipt_state"]) == ("sent", "ENROUTE")


def test_a_receipt_before_its_submit_commit_matches_when_the_id_is_recorded(
    sessionmaker, now, rows
):
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    assert receipts(sessionmaker, now, report("169552957")) == 0
    assert len(rows(ReceiptOrphan)) == 1
    assert submitted(sessionmaker, now, [(row.id, "0A1B2C3D")]) == 1
    assert rows(Outbox)[0]["state"] == "delivered"
    assert rows(ReceiptOrphan) == []


def test_a_final_orphan_wins_over_an_interim_one(sessionmaker, now, rows):
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    receipts(sessionmaker, now, report("77", "DELIVRD"), report("77", "ENROUTE"))
    submitted(sessionmaker, now, [(row.id, "77")])
    assert rows(Outbox)[0]["state"] == "delivered"


def test_rematch_catches_receipts_that_raced_their_submit_record(sessionmaker, now, rows):
    """Two concurrent transactions (MySQL) may each miss the other: the periodic
    re-match settles it."""
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    submitted(sessionmaker, now, [(row.id, "beef")])
    with sessionmaker.begin() as session:  # as if written without seeing the submit
        session.execute(ReceiptOrphan.__table__.insert(), [dict(
            link="smsc1", smsc_id="48879", state="DELIVRD", received_at=now)])
    with sessionmaker.begin() as session:
        assert outbox.rematch_orphans(session, now) == 1
    assert rows(Outbox)[0]["state"] == "delivered" and rows(ReceiptOrphan) == []


def test_unmatched_receipts_never_raise_and_are_pruned(sessionmaker, now, rows):
    assert receipts(sessionmaker, now, report("nobody"), report("")) == 0
    assert [r["smsc_id"] for r in rows(ReceiptOrphan)] == ["nobody"]  # no-id one dropped
    with sessionmaker.begin() as session:
        assert outbox.prune_orphans(session, now + timedelta(seconds=1)) == 1
    assert rows(ReceiptOrphan) == []


def test_receipt_id_forms_cover_both_bases_and_padding():
    forms = outbox.receipt_id_forms("169552957")
    assert {"169552957", "a1b2c3d", "0a1b2c3d", "000000000a1b2c3d"} <= forms
    assert "169552957" in outbox.receipt_id_forms("0A1B2C3D")
    assert outbox.receipt_id_forms("msg-1") == {"msg-1"}
    assert outbox.receipt_id_forms("") == set()


def test_a_hex_id_and_its_decimal_quote_match_and_other_ids_compare_as_given():
    """Centres quote the submit_sm_resp id in hex or decimal, padded or not."""
    forms = outbox.receipt_id_forms
    assert {"1a2b", "6699"} <= forms("1A2B")
    assert {"7b", "123"} <= forms("0000000123") and "291" in forms("123")
    assert forms("7B") & forms("123") and forms("00ff") & forms("255")
    assert not forms("7c") & forms("123")
    assert forms(" Msg-42 ") == {"msg-42"}
