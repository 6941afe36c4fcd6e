"""A submit record matches the receipts that overtook it (orphans) from one read of the
few orphans there are, in any spelling of the id; with many orphans it asks the database
for its own ids as before. Unrelated orphans stay for later."""
from __future__ import annotations

from sqlalchemy import event

from erpcore import outbox
from erpcore.messaging_models import Outbox, ReceiptOrphan
from tests.pipeline.test_pipeline_outbox_store import claim, queue, receipts, report, submitted


def orphan_reads(engine):
    seen = []

    def note(_conn, _cursor, statement, _params, _context, _many):
        words = statement.split()
        if words[0].upper() == "SELECT" and "receipt_orphan" in words[words.index("FROM") + 1:][:1]:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return seen, lambda: event.remove(engine, "before_cursor_execute", note)


def test_orphans_in_any_spelling_match_and_unrelated_ones_stay(sessionmaker, now, rows):
    queue(sessionmaker, now, count=3)
    first, second, third = claim(sessionmaker, now)
    receipts(sessionmaker, now, report("aa01"), report("169552957", "UNDELIV", "001"),
             report("nobody"))
    assert len(rows(ReceiptOrphan)) == 3
    assert submitted(sessionmaker, now, [(first.id, "AA01"), (second.id, "0A1B2C3D"),
                                         (third.id, "77")]) == 2
    states = [(r["state"], r["receipt_state"]) for r in rows(Outbox)]
    assert states == [("delivered", "DELIVRD"), ("undelivered", "UNDELIV"), ("sent", None)]
    assert [o["smsc_id"] for o in rows(ReceiptOrphan)] == ["nobody"]


def test_a_submit_record_reads_the_few_orphans_once(engine, sessionmaker, now, rows):
    queue(sessionmaker, now, count=2)
    first, second = claim(sessionmaker, now)
    receipts(sessionmaker, now, report("aa01"), report("somebody-else"))
    seen, stop = orphan_reads(engine)
    try:
        assert submitted(sessionmaker, now, [(first.id, "aa01"), (second.id, "bb02")]) == 1
    finally:
        stop()
    assert len(seen) == 1, seen


def test_with_many_orphans_the_database_finds_ours(sessionmaker, now, rows, monkeypatch):
    monkeypatch.setattr(outbox, "ORPHAN_SCAN", 2)
    monkeypatch.setattr(outbox, "_FIRST_ORPHANS", outbox._FIRST_ORPHANS.limit(3))
    queue(sessionmaker, now)
    (row,) = claim(sessionmaker, now)
    receipts(sessionmaker, now, report("x1"), report("x2"), report("x3"), report("48879"))
    assert submitted(sessionmaker, now, [(row.id, "beef")]) == 1
    assert rows(Outbox)[0]["state"] == "delivered"
    assert [o["smsc_id"] for o in rows(ReceiptOrphan)] == ["x1", "x2", "x3"]
