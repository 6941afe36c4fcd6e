"""Enterprises: the tenants every other row belongs to.

An enterprise is reached by SMS at the service code followed by its extension
(``1065712345`` + ``01``), so the extension is unique across the platform.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, bindparam, func, or_, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import audit
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import NotFound
from erpcore.quiet_hours import QuietHours, check_window, format_utc_offset, parse_utc_offset

LANGUAGES = ("zh", "en")
DEFAULT_LANG = "zh"


class TenantError(Exception):
    """Base of the errors this module raises."""


class EnterpriseNotFound(TenantError):
    """No active enterprise answers at this extension."""

    def __init__(self, extension: str):
        super().__init__(f"no enterprise at extension {extension!r}")
        self.extension = extension


class Enterprise(Base):
    __tablename__ = "enterprises"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    # English name for English replies and pages; the local name is used when unset.
    name_en: Mapped[str | None] = mapped_column(String(128))
    extension: Mapped[str] = mapped_column(String(8), unique=True)
    lang: Mapped[str] = mapped_column(String(2), default=DEFAULT_LANG, server_default=DEFAULT_LANG)
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    # The tenant cloud (erpcore.clouds) hosting this enterprise; None: the default one.
    cloud_id: Mapped[int | None] = mapped_column(ForeignKey("tenant_clouds.id"))
    # Its own quiet hours ("HH:MM" local time, both or neither) and local time as minutes
    # east of UTC; None: the gateway's [notify] defaults (erpcore.quiet_hours).
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    utc_offset_minutes: Mapped[int | None] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<Enterprise {self.code} ext={self.extension}>"


#: Built once: building and cache-keying a statement per MO cost more than running it.
_BY_EXTENSION = select(Enterprise).where(Enterprise.extension == bindparam("extension"))
_MEMO_KEY = "merp.enterprise_by_extension"


def find_by_extension(session: Session, extension: str) -> Enterprise | None:
    """The enterprise (active or not) whose service-code extension is ``extension``.

    Found enterprises are remembered for the rest of the session's transaction (a
    dispatcher batch asks for the same few enterprises hundreds of times)."""
    if not extension:
        return None
    memo = transaction_memo(session, _MEMO_KEY)
    enterprise = memo.get(extension)
    if enterprise is None:
        enterprise = session.scalars(_BY_EXTENSION, {"extension": extension}).first()
        if enterprise is not None:
            memo[extension] = enterprise
    return enterprise


def remember_extensions(session: Session, extensions: Iterable[str]) -> None:
    """Load the enterprises at these extensions in one query and remember them like
    `find_by_extension` does (a dispatcher batch of many tenants' MOs)."""
    memo = transaction_memo(session, _MEMO_KEY)
    wanted = sorted({e for e in extensions if e and e not in memo})
    for start in range(0, len(wanted), 500):
        for enterprise in session.scalars(_BY_EXTENSIONS, {"extensions": wanted[start:start + 500]}):
            memo[enterprise.extension] = enterprise


_BY_EXTENSIONS = select(Enterprise).where(Enterprise.extension.in_(bindparam("extensions", expanding=True)))


def transaction_memo(session: Session, key: str) -> dict:
    """A dict (one per `key`) that lives as long as the session's current (outermost)
    transaction: for rows a dispatcher batch would otherwise load once per MO."""
    transaction = session.get_transaction()
    if transaction is None:
        return {}  # not in a transaction yet: nothing to remember across
    held = session.info.get(key)
    if held is None or held[0] is not transaction:
        held = (transaction, {})
        session.info[key] = held
    return held[1]


def forget_transaction_memos(session: Session) -> None:
    """Drop every memo of the session's current transaction (`transaction_memo`'s
    ``(transaction, dict)`` pairs), so that what a rolled-back dispatcher batch
    remembered is read again."""
    transaction = session.get_transaction()
    for key, held in list(session.info.items()):
        if isinstance(held, tuple) and len(held) == 2 and held[0] is transaction:
            del session.info[key]


def get_by_extension(session: Session, extension: str) -> Enterprise:
    """Like find_by_extension, for callers that need an active enterprise or an error."""
    enterprise = find_by_extension(session, extension)
    if enterprise is None or not enterprise.active:
        raise EnterpriseNotFound(extension)
    return enterprise


# -- quiet hours and local time --------------------------------------------------------------

class UnknownEnterprise(NotFound):
    code = "tenant.not_found"


def _enterprise(session: Session, enterprise_id: int) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise UnknownEnterprise(f"no enterprise {enterprise_id}", enterprise=enterprise_id)
    return enterprise


def quiet_settings(enterprise: Enterprise) -> dict:
    """What the enterprise set: ``{"quiet_start", "quiet_end", "utc_offset"}`` (None =
    the gateway's default), as the operator API and ``merp admin`` show it."""
    offset = enterprise.utc_offset_minutes
    return {
        "quiet_start": enterprise.quiet_start, "quiet_end": enterprise.quiet_end,
        "utc_offset": format_utc_offset(offset) if offset is not None else None,
    }


def set_quiet_hours(
    session: Session, enterprise_id: int, start: str | None, end: str | None,
    actor_user_id: int | None = None,
) -> Enterprise:
    """Give the enterprise its own quiet hours (``"22:00"``, ``"07:00"``; equal times: none
    at all), or None and None for the gateway's default. Refuses anything but HH:MM."""
    window = check_window(start, end)
    enterprise = _enterprise(session, enterprise_id)
    before = quiet_settings(enterprise)
    enterprise.quiet_start, enterprise.quiet_end = window if window is not None else (None, None)
    session.flush()
    audit.record(session, enterprise.id, actor_user_id, "enterprise.quiet_hours", "enterprise",
                 enterprise.id, before, quiet_settings(enterprise))
    return enterprise


def set_utc_offset(
    session: Session, enterprise_id: int, offset: str | None, actor_user_id: int | None = None,
) -> Enterprise:
    """Set the enterprise's local time (``"+08:00"``), or None for the gateway's default."""
    minutes = parse_utc_offset(offset) if offset is not None else None
    enterprise = _enterprise(session, enterprise_id)
    before = quiet_settings(enterprise)
    enterprise.utc_offset_minutes = minutes
    session.flush()
    audit.record(session, enterprise.id, actor_user_id, "enterprise.utc_offset", "enterprise",
                 enterprise.id, before, quiet_settings(enterprise))
    return enterprise


def quiet_hours_of(enterprise: Enterprise, default: QuietHours) -> QuietHours:
    """The window that applies to the enterprise: its own settings over the default."""
    return default.overridden(enterprise.quiet_start, enterprise.quiet_end, enterprise.utc_offset_minutes)


def own_quiet_hours(session: Session, default: QuietHours) -> dict[int, QuietHours]:
    """Every enterprise that set anything of its own, with the window that applies to it
    (the rest follow ``default``). Few rows: most enterprises keep the default."""
    rows = session.execute(
        select(Enterprise.id, Enterprise.quiet_start, Enterprise.quiet_end, Enterprise.utc_offset_minutes)
        .where(or_(Enterprise.quiet_start.is_not(None), Enterprise.utc_offset_minutes.is_not(None)))
    )
    return {row.id: default.overridden(row.quiet_start, row.quiet_end, row.utc_offset_minutes) for row in rows}
