"""Rewriting the stored text of handled MOs that carried a secret.

A SERVICE request by SMS carries the enterprise administrator's password (commands.service).
The inbox must keep the raw text until the command has run — a crash between storing and
handling is recovered by running the stored text again after restart — but not a moment
longer: the dispatcher replaces it with the masked text the command layer gives
(``Outcome.kept_text``) in the same transaction that logs the command and marks the MO
done, so the password is either still needed or gone, never both.
"""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import bindparam, update
from sqlalchemy.orm import Session

from erpcore.messaging_models import Inbox

_REPLACE = (
    update(Inbox.__table__)
    .where(Inbox.__table__.c.id == bindparam("mo_id"))
    .values(text=bindparam("kept_text"))
)


def replace_texts(session: Session, kept: Mapping[int, str]) -> None:
    """Store ``kept[inbox_id]`` as the text of each of those MOs (one executemany)."""
    if kept:
        session.connection().execute(
            _REPLACE, [{"mo_id": mo_id, "kept_text": text} for mo_id, text in kept.items()]
        )
