"""Sites: warehouses, retail halls, agents and service points of one enterprise."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint, func, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

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
