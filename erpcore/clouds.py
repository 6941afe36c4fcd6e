"""Tenant clouds: the deployments (server clusters) enterprises are hosted on.

The platform operator may run several clouds (a region, a dedicated cluster for a large
customer); each enterprise names the one that serves it, or none for the default.
"""
from __future__ import annotations

import re

from sqlalchemy import String, select, true
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.errors import Conflict, InvalidInput, NotFound

_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")


class CloudNotFound(NotFound):
    code = "cloud.not_found"


class TenantCloud(Base):
    __tablename__ = "tenant_clouds"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    endpoint: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=true())

    def __repr__(self) -> str:
        return f"<TenantCloud {self.code}>"


def create_cloud(session: Session, code: str, name: str, endpoint: str | None = None) -> TenantCloud:
    """Register a cloud; its code is unique on the platform."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise InvalidInput(f"bad cloud code {code!r}", code="cloud.bad_code")
    if not name:
        raise InvalidInput("a cloud needs a name", code="cloud.bad_name")
    if find_cloud(session, code) is not None:
        raise Conflict(f"cloud {code!r} exists", code="cloud.exists", cloud=code)
    cloud = TenantCloud(code=code, name=name, endpoint=endpoint)
    session.add(cloud)
    session.flush()
    return cloud


def find_cloud(session: Session, code: str) -> TenantCloud | None:
    return session.scalars(select(TenantCloud).where(TenantCloud.code == code)).first()


def get_cloud(session: Session, code: str) -> TenantCloud:
    cloud = find_cloud(session, code)
    if cloud is None:
        raise CloudNotFound(f"no cloud {code!r}", cloud=code)
    return cloud
