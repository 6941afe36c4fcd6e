"""Users of an enterprise and the binding of a handset number (MSISDN) to one of them.

MSISDN rule (kept deliberately small): drop spaces, dashes and a leading ``+``; then, when
what is left is an 11-digit Chinese mobile number (starting with 1) behind the country
code ``86`` or ``0086``, drop the country code. Every other number is kept as its digits,
so ``+8613800000001``, ``008613800000001`` and ``13800000001`` are the same user while a
foreign number keeps its country code.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import ForeignKey, String, UniqueConstraint, bindparam, false, inspect, select, true, tuple_
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from erpcore import memo
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.sites import Site
from erpcore.tenants import Enterprise, transaction_memo

_SEPARATORS = re.compile(r"[\s\-()]")
_CN_MOBILE = re.compile(r"1\d{10}")
MAX_MSISDN_DIGITS = 20


class UserError(Exception):
    """Base of the errors this module raises."""


class InvalidMsisdn(UserError, ValueError):
    """The text is not a phone number we can store or look up."""

    def __init__(self, value: str):
        super().__init__(f"not a phone number: {value!r}")
        self.value = value


def normalize_msisdn(value: str) -> str:
    """The canonical digits of a phone number (see the module docstring for the rule)."""
    if isinstance(value, str):
        return _normalized(value)
    return _normalize(value)


@lru_cache(maxsize=4096)
def _normalized(value: str) -> str:
    """`_normalize`, remembered: a dispatcher batch normalizes each sender's number several
    times (an error is raised again each time: lru_cache keeps only answers)."""
    return _normalize(value)


def _normalize(value) -> str:
    digits = _SEPARATORS.sub("", value or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isascii() or not digits.isdigit() or len(digits) > MAX_MSISDN_DIGITS:
        raise InvalidMsisdn(value)
    for prefix in ("0086", "86"):
        rest = digits[len(prefix):]
        if digits.startswith(prefix) and _CN_MOBILE.fullmatch(rest):
            return rest
    return digits


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "username"),
        UniqueConstraint("enterprise_id", "msisdn"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128))
    msisdn: Mapped[str | None] = mapped_column(String(24))
    # None means "the enterprise's language".
    lang: Mapped[str | None] = mapped_column(String(2))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    role: Mapped[str] = mapped_column(String(32), default="clerk", server_default="clerk")
    active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The handset takes WAP Push SIs: approval requests also go as a push with the link.
    push_capable: Mapped[bool] = mapped_column(default=False, server_default=false())

    enterprise: Mapped[Enterprise] = relationship()
    site: Mapped[Site | None] = relationship()

    @validates("msisdn")
    def _normalize(self, _key: str, value: str | None) -> str | None:
        return None if value is None else normalize_msisdn(value)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.msisdn}>"


def find_by_msisdn(session: Session, enterprise_id: int, msisdn: str) -> User | None:
    """The user of this enterprise bound to ``msisdn`` (active or not); None for a
    number that is unknown or not a phone number at all. Users `remember_senders`
    loaded earlier in the transaction come without a query."""
    try:
        number = normalize_msisdn(msisdn)
    except InvalidMsisdn:
        return None
    user = transaction_memo(session, _SENDERS_MEMO).get((enterprise_id, number))
    if user is not None and _still_bound(user, enterprise_id, number):
        return user
    return session.scalars(_BY_MSISDN, {"enterprise_id": enterprise_id, "msisdn": number}).first()


def remember_senders(session: Session, senders: Iterable[tuple[int, str]]) -> int:
    """Load the users bound to these (enterprise id, msisdn) pairs in one query and keep
    them for the rest of the transaction (a dispatcher batch: one query for its senders,
    not one per MO); returns how many were found. Numbers that are not phone numbers are
    skipped; a number with no user is not remembered (one may be added meanwhile)."""
    memo = transaction_memo(session, _SENDERS_MEMO)
    wanted = set()
    for enterprise_id, msisdn in senders:
        try:
            key = (enterprise_id, normalize_msisdn(msisdn))
        except InvalidMsisdn:
            continue
        if key not in memo:
            wanted.add(key)
    ordered = sorted(wanted)
    found = 0
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start:start + _CHUNK]
        for user in session.scalars(_BY_SENDERS, {"senders": chunk}):
            memo[user.enterprise_id, user.msisdn] = user
            found += 1
    return found


def _still_bound(user: User, enterprise_id: int, number: str) -> bool:
    """A remembered user is used only while it is still this number's, in this session."""
    state = inspect(user)
    return state.persistent and user.enterprise_id == enterprise_id and user.msisdn == number


#: Built once: building and cache-keying a statement per MO cost more than running it.
_BY_MSISDN = select(User).where(
    User.enterprise_id == bindparam("enterprise_id"), User.msisdn == bindparam("msisdn")
)
_BY_SENDERS = select(User).where(
    tuple_(User.enterprise_id, User.msisdn).in_(bindparam("senders", expanding=True))
)
_SENDERS_MEMO = "merp.users_by_msisdn"
_CHUNK = 500
_ID_MEMO = "merp.users_by_id"
memo.forget_on_flush(User, _ID_MEMO)
_BY_IDS = select(User).where(User.id.in_(bindparam("ids", expanding=True)))


def remember_users(session: Session, user_ids: Iterable[int]) -> None:
    """Load these users in one query and hold them for the rest of the transaction, so
    that ``session.get(User, id)`` finds them in the session (the requester a decision
    notice tells, the name a reply shows)."""
    kept = memo.memo(session, _ID_MEMO)
    ids = sorted({i for i in user_ids if i is not None and i not in kept})
    for start in range(0, len(ids), _CHUNK):
        for user in session.scalars(_BY_IDS, {"ids": ids[start:start + _CHUNK]}):
            kept[user.id] = user


def effective_lang(user: User | None, enterprise: Enterprise | None) -> str:
    """The language to answer in: the user's, else the enterprise's, else Chinese."""
    for lang in (user.lang if user else None, enterprise.lang if enterprise else None):
        if lang in ("zh", "en"):
            return lang
    return "zh"
