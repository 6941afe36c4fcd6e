"""Enterprises: the tenants every other row belongs to.

An enterprise is reached by SMS at the service code followed by its extension
(``1065712345`` + ``01``), so the extension is unique across the platform.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, bindparam, func, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base

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


def get_by_extension(session: Session, extension: str) -> Enterprise:
    """Like find_by_extension, for callers that need an active enterprise or an error."""
    enterprise = find_by_extension(session, extension)
    if enterprise is None or not enterprise.active:
        raise EnterpriseNotFound(extension)
    return enterprise
