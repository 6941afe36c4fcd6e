"""The site hierarchy of seed 004: province → city → hall, with warehouses, agents and
after-sales points hanging where they belong.

Areas (province, city) are sites too, so a province-level warehouse of spare handsets and
a city's halls are reached by the same parent links. Queries load the enterprise's sites
once and walk them in memory: a tenant has hundreds of sites, not millions.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from erpcore import audit
from erpcore.errors import Conflict, InvalidInput, NotFound
from erpcore.sites import Site

AREA_KINDS = ("province", "city")
PLACE_KINDS = ("warehouse", "hall", "agent", "service")
ALL_KINDS = AREA_KINDS + PLACE_KINDS

#: Which kinds a parent of each kind may have (None: no parent).
ALLOWED_PARENTS: dict[str, tuple[str | None, ...]] = {
    "province": (None,),
    "city": ("province",),
    "hall": (None, "city", "province"),
    "warehouse": (None, "city", "province"),
    "agent": (None, "city", "province", "hall"),
    "service": (None, "city", "province", "hall"),
}


class SiteTreeNotFound(NotFound):
    code = "site.not_found"


class InvalidSite(InvalidInput):
    code = "site.invalid"


class DuplicateSite(Conflict):
    code = "site.duplicate"


def get_site_by_id(session: Session, enterprise_id: int, site_id: int) -> Site:
    """The site of this tenant with this id; another tenant's site is not found."""
    site = session.scalars(
        select(Site).where(Site.enterprise_id == enterprise_id, Site.id == site_id)
    ).first()
    if site is None:
        raise SiteTreeNotFound(f"no site {site_id}", site_id=site_id)
    return site


def _tenant_sites(session: Session, enterprise_id: int) -> dict[int, Site]:
    return {s.id: s for s in session.scalars(select(Site).where(Site.enterprise_id == enterprise_id))}


def ancestors(session: Session, enterprise_id: int, site_id: int) -> list[Site]:
    """The parents of a site, nearest first (a hall's city, then its province)."""
    sites = _tenant_sites(session, enterprise_id)
    if site_id not in sites:
        raise SiteTreeNotFound(f"no site {site_id}", site_id=site_id)
    chain: list[Site] = []
    seen = {site_id}
    parent_id = sites[site_id].parent_id
    while parent_id is not None and parent_id in sites and parent_id not in seen:
        seen.add(parent_id)
        chain.append(sites[parent_id])
        parent_id = sites[parent_id].parent_id
    return chain


def descendants(session: Session, enterprise_id: int, site_id: int) -> list[Site]:
    """Every site below this one, breadth first (a province's cities, then their halls)."""
    sites = _tenant_sites(session, enterprise_id)
    if site_id not in sites:
        raise SiteTreeNotFound(f"no site {site_id}", site_id=site_id)
    children: dict[int, list[Site]] = {}
    for site in sorted(sites.values(), key=lambda s: s.id):
        if site.parent_id is not None:
            children.setdefault(site.parent_id, []).append(site)
    found: list[Site] = []
    queue = [site_id]
    seen = {site_id}
    while queue:
        current = queue.pop(0)
        for child in children.get(current, ()):
            if child.id not in seen:
                seen.add(child.id)
                found.append(child)
                queue.append(child.id)
    return found


def subtree_ids(session: Session, enterprise_id: int, site_id: int) -> list[int]:
    """The site and everything below it, for "stock in this city" style questions."""
    return [site_id] + [s.id for s in descendants(session, enterprise_id, site_id)]


def create_site(
    session: Session,
    enterprise_id: int,
    *,
    code: str,
    name: str,
    kind: str,
    parent_id: int | None = None,
    name_en: str | None = None,
    actor_user_id: int | None = None,
) -> Site:
    """Add a site under ``parent_id`` (a site of the same tenant whose kind may hold it)."""
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or len(code) > 32:
        raise InvalidSite("a site code is 1-32 characters", field="code", value=code)
    if not name or len(name) > 128:
        raise InvalidSite("a site name is 1-128 characters", field="name", value=name)
    if kind not in ALL_KINDS:
        raise InvalidSite(f"unknown site kind {kind!r}", field="kind", value=kind, allowed=ALL_KINDS)
    parent_kind = None
    if parent_id is not None:
        parent_kind = get_site_by_id(session, enterprise_id, parent_id).kind
    if parent_kind not in ALLOWED_PARENTS[kind]:
        raise InvalidSite(
            f"a {kind} cannot be placed under {parent_kind or 'nothing'}",
            field="parent_id", kind=kind, parent_kind=parent_kind,
        )
    taken = session.scalars(
        select(Site.id).where(Site.enterprise_id == enterprise_id, Site.code == code)
    ).first()
    if taken is not None:
        raise DuplicateSite(f"site code {code!r} is taken", code_value=code)
    site = Site(enterprise_id=enterprise_id, code=code, name=name, name_en=name_en, kind=kind,
                parent_id=parent_id)
    session.add(site)
    session.flush()
    audit.record(session, enterprise_id, actor_user_id, "site.create", "site", site.id, None,
                 site_snapshot(site))
    return site


def site_snapshot(site: Site) -> dict:
    return {"code": site.code, "name": site.name, "name_en": site.name_en, "kind": site.kind,
            "parent_id": site.parent_id}
