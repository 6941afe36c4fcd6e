"""commands.runner in a dispatcher batch (``without_savepoints``): a writing command runs
without a savepoint of its own; a refusal before any write is answered as usual (and
forgets the audit entries and notifications it queued), a refusal after a write raises
WroteBeforeRefusing for the dispatcher's one-by-one fallback, and a handler that keeps a
write while refusing (a wrong PIN's failure count) still keeps it."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, insert, select

import commands
from commands import runner
from commands.registry import Command, Context, Options, Reply
from erpcore import audit, deferred
from erpcore.auth import UserCredential
from erpcore.db import session_scope
from erpcore.demo import DEMO_SERVICE_CODE
from erpcore.errors import Conflict
from erpcore.messaging_models import InboxSeenPart
from erpcore.written import WroteBeforeRefusing
from tests.commands.cmd_helpers import MANAGER, PIN, demo, set_pin, user
from tests.commands.conftest import DEMO_NUMBER, Sms


class Statements:
    def __init__(self, engine):
        self.seen: list[str] = []
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, _conn, _cursor, statement, *_rest):
        self.seen.append(" ".join(statement.split()).upper())

    def count(self, start: str) -> int:
        return sum(s.startswith(start) for s in self.seen)

    def close(self):
        event.remove(self._engine, "before_cursor_execute", self._seen)


def marker(session, name: str) -> None:
    """A business write the test can find again."""
    session.execute(insert(InboxSeenPart.__table__),
                    [dict(link="runner-test", smsc_id=name, seen_at=datetime(2024, 1, 1))])


def markers(sessionmaker) -> list[str]:
    with session_scope(sessionmaker) as session:
        return list(session.scalars(select(InboxSeenPart.smsc_id).where(InboxSeenPart.link == "runner-test")))


def command(handler) -> Command:
    return Command(name="TEST", pinyin="CS", chinese="测试", handler=handler, writes=True,
                   synopsis={"zh": "", "en": ""}, usage={"zh": "", "en": ""})


def context(session) -> Context:
    return Context(session=session, enterprise=demo(session), user=user(session, MANAGER), lang="en",
                   registry=commands.REGISTRY, options=commands.DEFAULT_OPTIONS)


def refuse(_ctx, _args):
    raise Conflict("no", code="test.refused")


def write_then_refuse(ctx, _args):
    marker(ctx.session, "half")
    refuse(ctx, _args)


def queue_then_refuse(ctx, _args):
    trail = audit.Trail(ctx.session, ctx.enterprise.id)
    trail.add(None, "test.refused", "thing", 1, None, None)
    trail.write()
    refuse(ctx, _args)


def change_then_refuse(ctx, _args):
    ctx.user.display_name = "changed in memory"
    refuse(ctx, _args)


def write_and_answer_no(ctx, _args):
    marker(ctx.session, "kept")
    return Reply("no, but noted", ok=False)


@pytest.fixture
def seeded(send, sessionmaker):  # send seeds the demo world
    return sessionmaker


def test_a_refusal_before_any_write_needs_no_savepoint_and_forgets_what_it_queued(seeded, engine):
    statements = Statements(engine)
    try:
        with session_scope(seeded) as session, deferred.deferring(session), runner.without_savepoints(session):
            ctx = context(session)
            assert runner.run(command(refuse), ctx, []).ok is False
            before = deferred.pending(session)
            assert runner.run(command(queue_then_refuse), ctx, []).ok is False
            assert deferred.pending(session) == before
    finally:
        statements.close()
    assert statements.count("SAVEPOINT") == 0 and statements.count("INSERT INTO AUDIT_LOG") == 0


@pytest.mark.parametrize("handler", [write_then_refuse, change_then_refuse])
def test_a_refusal_after_a_write_raises_for_the_dispatcher_to_undo(seeded, handler):
    with session_scope(seeded) as session, runner.without_savepoints(session):
        with pytest.raises(WroteBeforeRefusing):
            runner.run(command(handler), context(session), [])
        session.rollback()


def test_outside_a_batch_the_savepoint_undoes_the_write_and_the_refusal_is_answered(seeded):
    with session_scope(seeded) as session:
        assert runner.run(command(write_then_refuse), context(session), []).ok is False
    assert markers(seeded) == []


def test_a_handler_that_answers_no_keeps_its_write_in_a_batch(seeded):
    with session_scope(seeded) as session, runner.without_savepoints(session):
        assert runner.run(command(write_and_answer_no), context(session), []) == Reply("no, but noted", ok=False)
    assert markers(seeded) == ["kept"]


def test_a_wrong_pin_is_counted_in_a_batch_too(seeded, ordered):
    set_pin(seeded, MANAGER, PIN)
    with session_scope(seeded) as session, deferred.deferring(session), runner.without_savepoints(session):
        outcome = commands.handle(session, Sms(MANAGER, DEMO_NUMBER, "Y 1001 999999"), DEMO_SERVICE_CODE,
                                  options=Options(pin_above=Decimal("5000")))
        assert outcome.ok is False and "Wrong PIN" in outcome.reply
    with session_scope(seeded) as session:
        assert session.get(UserCredential, user(session, MANAGER).id).failed_count == 1


def test_the_mode_ends_with_its_block(seeded):
    with session_scope(seeded) as session:
        with runner.without_savepoints(session):
            pass
        assert runner.run(command(write_then_refuse), context(session), []).ok is False
    assert markers(seeded) == []
