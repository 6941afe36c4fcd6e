"""A small demo enterprise for `merp demo`, the simulator and the tests.

Seeding is idempotent: rows are looked up by their natural keys and only missing ones are
created, so running it again neither duplicates rows nor resets stock that has moved.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erpcore.items import Item
from erpcore.approvals import install_default_rules
from erpcore.services import ensure_open
from erpcore.sites import Site
from erpcore.stock import StockLevel
from erpcore.tenants import Enterprise
from erpcore.users import User

DEMO_SERVICE_CODE = "1065712345"
DEMO_CODE = "DEMO"
DEMO_EXTENSION = "01"

# code, local name, English name, kind
SITES = (
    ("WH1", "中心仓库", "Central warehouse", "warehouse"),
    ("HALL1", "一厅", "Hall 1", "hall"),
    ("HALL2", "二厅", "Hall 2", "hall"),
)
# sku, local name, English name, brand, model, TAC, unit price
ITEMS = (
    ("X100", "华为Mate X100", "Huawei Mate X100", "Huawei", "MX100-AL00", "86123456", "4999.00"),
    ("N200", "诺基亚N200", "Nokia N200", "Nokia", "N200-DS", "35209876", "299.00"),
    ("C300", "中兴畅享C300", "ZTE Blade C300", "ZTE", "C300-CN", "86654321", "899.00"),
    ("CHG1", "快速充电器", "Fast charger", "Huawei", "HW-050450", None, "79.00"),
    ("EAR1", "蓝牙耳机", "Bluetooth earphones", "Xiaomi", "BT-E1", None, "129.00"),
)
# sku -> {site code: quantity}
STOCK = {
    "X100": {"WH1": 250, "HALL1": 12, "HALL2": 0},
    "N200": {"WH1": 80, "HALL1": 5, "HALL2": 7},
    "C300": {"WH1": 40, "HALL1": 3},
    "CHG1": {"WH1": 500, "HALL1": 30, "HALL2": 25},
    "EAR1": {"WH1": 120, "HALL2": 9},
}
# username, display name, msisdn, lang, role, site code
USERS = (
    ("zhang", "张伟", "13800000001", "zh", "clerk", "HALL1"),
    ("smith", "John Smith", "13800000002", "en", "manager", None),
    ("wang", "王芳", "13800000003", "zh", "storekeeper", "WH1"),
)
# Added by `merp demo` / `merp db seed-demo` only (the test worlds bring their own).
EXTRA_USERS = (
    ("zhao", "赵敏", "13800000006", "zh", "finance", None),
)


def seed_demo(session: Session) -> Enterprise:
    """Create whatever part of the demo enterprise is missing; return the enterprise.
    The caller commits."""
    enterprise = seed_enterprise(session, DEMO_CODE, "演示企业", "Demo Trading", DEMO_EXTENSION)
    sites = _sites_of(session, enterprise)
    for username, display_name, msisdn, lang, role, site_code in USERS:
        _user(session, enterprise, username, display_name, msisdn, lang, role, sites.get(site_code))
    session.flush()
    return enterprise


def seed_enterprise(session: Session, code: str, name: str, name_en: str, extension: str) -> Enterprise:
    """An enterprise with the demo's sites, items and stock, every module open and the
    default approval rules (whatever part of it is missing)."""
    enterprise = session.scalars(select(Enterprise).where(Enterprise.code == code)).first()
    if enterprise is None:
        enterprise = Enterprise(code=code, name=name, name_en=name_en, extension=extension, lang="zh")
        session.add(enterprise)
        session.flush()
    sites = {code: _site(session, enterprise, *rest, code=code) for code, *rest in SITES}
    items = {sku: _item(session, enterprise, *rest, sku=sku) for sku, *rest in ITEMS}
    session.flush()
    for sku, per_site in STOCK.items():
        for site_code, quantity in per_site.items():
            _stock(session, items[sku], sites[site_code], quantity)
    session.flush()
    ensure_open(session, enterprise.id)  # every business module open
    install_default_rules(session, enterprise.id)  # ORDER X100 2 (9,998) waits for the manager
    return enterprise


def _sites_of(session: Session, enterprise: Enterprise) -> dict[str, Site]:
    sites = session.scalars(select(Site).where(Site.enterprise_id == enterprise.id))
    return {site.code: site for site in sites}


def _site(
    session: Session, enterprise: Enterprise, name: str, name_en: str, kind: str, *, code: str
) -> Site:
    site = session.scalars(
        select(Site).where(Site.enterprise_id == enterprise.id, Site.code == code)
    ).first()
    if site is None:
        site = Site(enterprise_id=enterprise.id, code=code, name=name, name_en=name_en, kind=kind)
        session.add(site)
    return site


def _item(
    session: Session, enterprise: Enterprise, name: str, name_en: str, brand: str,
    model: str, tac: str | None, price: str, *, sku: str,
) -> Item:
    item = session.scalars(
        select(Item).where(Item.enterprise_id == enterprise.id, Item.sku == sku)
    ).first()
    if item is None:
        item = Item(
            enterprise_id=enterprise.id, sku=sku, name=name, name_en=name_en, brand=brand,
            model=model, tac=tac, unit_price=Decimal(price),
        )
        session.add(item)
    return item


def _stock(session: Session, item: Item, site: Site, quantity: int) -> None:
    exists = session.scalars(
        select(StockLevel.id).where(StockLevel.item_id == item.id, StockLevel.site_id == site.id)
    ).first()
    if exists is None:
        session.add(StockLevel(item_id=item.id, site_id=site.id, quantity=quantity))


def _user(
    session: Session, enterprise: Enterprise, username: str, display_name: str, msisdn: str,
    lang: str, role: str, site: Site | None,
) -> None:
    exists = session.scalars(
        select(User.id).where(User.enterprise_id == enterprise.id, User.username == username)
    ).first()
    if exists is None:
        session.add(
            User(
                enterprise_id=enterprise.id, username=username, display_name=display_name,
                msisdn=msisdn, lang=lang, role=role, site_id=site.id if site else None,
            )
        )


LOAD_FIRST_MSISDN = "13900000000"
#: Load team t answers at the service code + "9" + t in four digits (sim.load numbers
#: them the same way); so at most 10,000 teams.
LOAD_TEAM_PREFIX = "9"
MAX_LOAD_TEAMS = 10_000


def load_team_extension(team: int) -> str:
    """The extension of load team ``team`` (the demo enterprise is "01")."""
    return f"{LOAD_TEAM_PREFIX}{team:04d}"


def seed_load_users(
    session: Session, count: int, first_msisdn: str = LOAD_FIRST_MSISDN, team_size: int = 0,
) -> int:
    """Bind `count` handsets (first_msisdn, +1, ...) as `merp sim load` numbers them;
    returns how many users were added.

    team_size 0: all are clerks at the demo enterprise's HALL1. team_size T: handset i
    belongs to team i // T, an enterprise of its own (code LOADnnnn, extension
    `load_team_extension`) seeded like the demo; the team's first handset is its manager,
    the others clerks at HALL1. So every order of a clerk awaits exactly one approver, its
    team's manager (approval requests go to every manager of an enterprise, and nobody
    approves their own order: the manager orders nothing)."""
    if count < 0 or team_size < 0:
        raise ValueError("count and team_size must be >= 0")
    base = int(first_msisdn)
    if not team_size:
        enterprise = seed_demo(session)
        return _bind_handsets(session, enterprise, [(i, "clerk") for i in range(count)], base)
    teams = -(-count // team_size)
    if teams > MAX_LOAD_TEAMS:
        raise ValueError(f"{teams} teams: at most {MAX_LOAD_TEAMS} (raise the team size)")
    added = 0
    for team in range(teams):
        enterprise = seed_enterprise(session, f"LOAD{team:04d}", f"负载{team}", f"Load team {team}",
                                     load_team_extension(team))
        members = range(team * team_size, min(count, (team + 1) * team_size))
        added += _bind_handsets(
            session, enterprise, [(i, "manager" if i % team_size == 0 else "clerk") for i in members], base,
        )
    return added


def _bind_handsets(
    session: Session, enterprise: Enterprise, handsets: list[tuple[int, str]], base: int,
) -> int:
    """Users load<i> for handset numbers base + i with their roles: clerks at HALL1,
    managers at no site; those already there are left alone."""
    hall = session.scalars(
        select(Site).where(Site.enterprise_id == enterprise.id, Site.code == "HALL1")
    ).one()
    have = set(
        session.scalars(
            select(User.msisdn).where(User.enterprise_id == enterprise.id, User.username.like("load%"))
        )
    )
    rows = [
        {
            "enterprise_id": enterprise.id, "username": f"load{i:06d}", "display_name": f"Load {i}",
            "msisdn": str(base + i), "lang": "en" if i % 2 else "zh", "role": role,
            "site_id": hall.id if role == "clerk" else None,
        }
        for i, role in handsets
        if str(base + i) not in have
    ]
    if rows:
        session.execute(User.__table__.insert(), rows)
    return len(rows)


def set_demo_passwords(session: Session) -> None:
    """Add the finance officer (orders of 10,000 and more need one) and give each demo user
    without a password the password demo-<username>, so the WAP pages can be tried
    (`merp demo`, `merp db seed-demo`; not in tests: scrypt is slow on purpose)."""
    from erpcore.auth import has_password, set_password

    enterprise = session.scalars(select(Enterprise).where(Enterprise.code == DEMO_CODE)).one()
    for username, display_name, msisdn, lang, role, _site in EXTRA_USERS:
        _user(session, enterprise, username, display_name, msisdn, lang, role, None)
    session.flush()
    for username, *_rest in USERS + EXTRA_USERS:
        user = session.scalars(
            select(User).where(User.enterprise_id == enterprise.id, User.username == username)
        ).one()
        if not has_password(session, user):
            set_password(session, user, f"demo-{username}")
