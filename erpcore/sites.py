"""Sites: warehouses, retail halls, agents and service points of one enterprise."""
from __future__ import annotations

from collections.abc import Iterable
from operator import attrgetter

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, bindparam, func, or_, select
from sqlalchemy import inspect
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from erpcore import memo
from erpcore.base import MYSQL_TABLE_OPTIONS, Base

SITE_KINDS = ("warehouse", "hall", "agent", "service", "province", "city")  # areas: site_tree


class SiteError(Exception):
    """Base of the errors this module raises."""


class SiteNotFound(SiteError):
    """No site of this enterprise has the code or name that was asked for."""

    def __init__(self, query: str):
        super().__init__(f"no site {query!r}")
        self.query = query


class Site(Base):
    __tablename__ = "sites"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "code"),
        CheckConstraint(
            "kind IN ('warehouse', 'hall', 'agent', 'service', 'province', 'city')", name="kind"
        ),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))

    parent: Mapped[Site | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[Site]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Site {self.code} ({self.kind})>"

    def display_name(self, lang: str) -> str:
        """The name to show a reader of ``lang``."""
        if lang == "en":
            return self.name_en or self.code
        return self.name


def find_site(session: Session, enterprise_id: int, query: str) -> Site | None:
    """A site of the enterprise by code (any case) or exact local or English name."""
    query = query.strip()
    if not query:
        return None
    remembered = remembered_code(session, enterprise_id, query)
    if remembered is not None:
        return remembered
    by_code = session.scalars(
        select(Site).where(Site.enterprise_id == enterprise_id, func.upper(Site.code) == query.upper())
    ).first()
    if by_code is not None:
        return by_code
    return session.scalars(
        select(Site)
        .where(Site.enterprise_id == enterprise_id, or_(Site.name == query, Site.name_en == query))
        .order_by(Site.id)
    ).first()


def get_site(session: Session, enterprise_id: int, query: str) -> Site:
    """find_site, raising SiteNotFound instead of returning None."""
    site = find_site(session, enterprise_id, query)
    if site is None:
        raise SiteNotFound(query)
    return site


def list_sites(session: Session, enterprise_id: int) -> list[Site]:
    """Every site of the enterprise, in the order they were created."""
    statement = select(Site).where(Site.enterprise_id == enterprise_id).order_by(Site.id)
    return list(session.scalars(statement))


# -- read ahead for a dispatcher batch (erpcore.memo) --------------------------------------

_ID_MEMO = "merp.sites_by_id"
memo.forget_on_flush(Site, _ID_MEMO)
_BY_IDS = select(Site).where(Site.id.in_(bindparam("ids", expanding=True)))
_CHUNK = 500


def remember_sites(session: Session, site_ids: Iterable[int]) -> None:
    """Load these sites in one query and hold them for the rest of the transaction: a
    user's ``site``, ``session.get(Site, id)`` and `remembered_site` find them without one."""
    kept = memo.memo(session, _ID_MEMO)
    ids = sorted({i for i in site_ids if i is not None and i not in kept})
    for start in range(0, len(ids), _CHUNK):
        for site in session.scalars(_BY_IDS, {"ids": ids[start:start + _CHUNK]}):
            kept[site.id] = site


def remembered_site(session: Session, site_id: int) -> Site | None:
    """The site `remember_sites` loaded with this id, else None (not read ahead)."""
    kept = memo.settled(session, _ID_MEMO)
    return kept.get(site_id) if kept else None


_CODE_MEMO = "merp.sites_by_code"
memo.forget_on_flush(Site, _CODE_MEMO)
_BY_CODES = select(Site).where(
    Site.enterprise_id.in_(bindparam("enterprise_ids", expanding=True)),
    func.upper(Site.code).in_(bindparam("codes", expanding=True)),
)


def remember_codes(session: Session, queries: Iterable[tuple[int, str]]) -> None:
    """Load the sites these (enterprise id, query) pairs name by code in one query and
    keep each query that names exactly one, for `find_site`. As `items.remember_skus`:
    plain ASCII queries only, none a collation might also match another row by; a name
    or anything else is left to the normal lookup."""
    wanted = {(eid, query.strip().upper()) for eid, query in queries
              if query.strip() and query.strip().isascii() and query.strip().isprintable()}
    if not wanted:
        return
    rows: list[Site] = []
    enterprise_ids = sorted({eid for eid, _code in wanted})
    codes = sorted({code for _eid, code in wanted})
    for start in range(0, len(codes), _CHUNK):
        chunk = codes[start:start + _CHUNK]
        rows.extend(session.scalars(_BY_CODES, {"enterprise_ids": enterprise_ids, "codes": chunk}))
    memo.keep_unambiguous(session, _CODE_MEMO, wanted, rows, attrgetter("code"))


def remembered_code(session: Session, enterprise_id: int, query: str) -> Site | None:
    """The site `remember_codes` kept for this query (stripped), else None."""
    kept = memo.settled(session, _CODE_MEMO)
    if not kept:
        return None
    code = query.upper()
    site = kept.get((enterprise_id, code))
    if site is None or not inspect(site).persistent or site.enterprise_id != enterprise_id:
        return None
    return site if site.code.upper() == code else None


