"""What each WAP page shows, written once for every markup family.

A view runs on a database thread inside one unit of work and returns a ``Page``: the
template name and a dict of plain values (no ORM objects leave the thread). Rights are
those of the SMS commands: the same erpcore calls, the same tenant scoping, the same
module checks; refusals become a page, never a crash.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from erpcore import alerts, approvals, auth, orders, rbac, services
from erpcore.errors import ErpError, PermissionDenied
from erpcore.items import AmbiguousItem, Item, ItemNotFound, find_item
from erpcore.sites import Site, SiteNotFound
from erpcore.stock import stock_of
from erpcore.users import User
from gateway.web.wap import links
from gateway.web.wap.sessions import SessionStore, WapSession

MAX_QUERY = 40
MAX_THRESHOLD = 1_000_000


@dataclass
class Call:
    """What a view gets: the unit of work, who asks, the request's parameters."""

    db: Session
    wap: WapSession | None
    params: dict[str, str]
    page_size: int
    now: float
    secret: bytes = b""


@dataclass
class Page:
    template: str
    data: dict = field(default_factory=dict)
    status: int = 200
    new_session: WapSession | None = None
    end_session: bool = False


def _int(value: str | None, default: int, low: int = 1, high: int = 10**6) -> int:
    try:
        return max(low, min(high, int(value or default)))
    except ValueError:
        return default


def _paged(rows: list, page: int, size: int) -> tuple[list, int, int]:
    pages = max(1, -(-len(rows) // size))
    page = min(max(1, page), pages)
    return rows[(page - 1) * size: page * size], page, pages


def notice(title: str, text: str, status: int = 200) -> Page:
    return Page("notice", {"title": title, "text": text}, status)


def refused(error: Exception) -> Page:
    """The page for an erpcore refusal, by its stable code."""
    code = getattr(error, "code", "")
    if isinstance(error, services.ServiceClosed):
        return notice("Closed", "This service is not open for your enterprise.", 403)
    if code.startswith("order.not_found") or isinstance(error, ItemNotFound):
        return notice("Not found", "No such document or item.", 404)
    if isinstance(error, PermissionDenied):
        return notice("Refused", "You may not do this.", 403)
    return notice("Refused", str(error)[:120] or "Refused.", 400)


# -- login -----------------------------------------------------------------------------------

def login_form(call: Call, error: str | None = None, status: int = 200) -> Page:
    return Page("login", {"error": error, "next": _safe_next(call.params.get("next")),
                          "ent": call.params.get("ent", "")[:20]}, status)


def _safe_next(value: str | None) -> str:
    """Only a path of ours may follow a login (no open redirect)."""
    value = value or ""
    if value.startswith("/wap/") and "//" not in value and "\\" not in value and len(value) < 300:
        return value
    return ""


def login(call: Call, store: SessionStore) -> Page:
    p = call.params
    enterprise, username, password = p.get("ent", "").strip(), p.get("user", "").strip(), p.get("pw", "")
    if not (enterprise and username and password):
        return login_form(call, "Enter enterprise, user and password.", 400)
    try:
        user = auth.authenticate(call.db, enterprise, username, password)
    except auth.AccountLocked:
        return login_form(call, "Too many wrong passwords: locked, try later.", 403)
    except auth.AuthError:
        return login_form(call, "Wrong enterprise, user or password.", 403)
    wap = store.create(user.enterprise_id, user.id, user.display_name)
    call.wap = wap
    page = menu(call)
    page.new_session = wap
    page.data["next"] = _safe_next(p.get("next"))
    return page


# -- menu, pending, orders -------------------------------------------------------------------

def _user(call: Call) -> User:
    return orders.user_in_tenant(call.db, call.wap.enterprise_id, call.wap.user_id)


def menu(call: Call) -> Page:
    user = _user(call)
    can_approve = rbac.has_permission(call.db, user, "order.approve") and services.is_open(
        call.db, call.wap.enterprise_id, approvals.MODULE)
    waiting = len(approvals.pending_for(call.db, call.wap.enterprise_id, user.id)) if can_approve else 0
    return Page("menu", {"can_approve": can_approve, "waiting": waiting})


def _names(db: Session, user_ids) -> dict[int, str]:
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    return dict(db.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _order_row(order, names: dict[int, str]) -> dict:
    return {"number": order.number, "kind": order.kind, "state": order.state,
            "total": f"{order.total:.2f}", "requester": names.get(order.requester_user_id, "?"),
            "created": order.created_at.strftime("%m-%d %H:%M") if order.created_at else ""}


def pending(call: Call) -> Page:
    return pending_list(call, *read_pending(call.db, call.wap.enterprise_id))


def read_pending(db: Session, enterprise_id: int) -> tuple[bool, approvals.EnterprisePending]:
    """What every manager's pending list of the enterprise is made from (one read for all
    of them: pending_reads): whether approval is open, and the documents awaiting it."""
    approval_open = services.is_open(db, enterprise_id, approvals.MODULE)
    return approval_open, approvals.pending_in_enterprise(db, enterprise_id)


def pending_list(call: Call, approval_open: bool, pending: approvals.EnterprisePending) -> Page:
    """One manager's list, filtered from the enterprise's read in memory (no database)."""
    if not approval_open:
        raise services.ServiceClosed(f"module {approvals.MODULE!r} is not open", module=approvals.MODULE)
    waiting = pending.for_user(call.wap.user_id)
    rows, page, pages = _paged(waiting, _int(call.params.get("p"), 1), call.page_size)
    return Page("pending", {"orders": [_order_row(o, pending.names) for o in rows], "page": page,
                            "pages": pages, "count": len(waiting)})


def my_orders(call: Call) -> Page:
    services.require_open(call.db, call.wap.enterprise_id, orders.MODULE)
    user = _user(call)
    found = orders.list_orders(call.db, call.wap.enterprise_id, limit=500)
    if not rbac.has_permission(call.db, user, "order.view_all"):
        found = [o for o in found if o.requester_user_id == user.id]
    rows, page, pages = _paged(found, _int(call.params.get("p"), 1), call.page_size)
    names = _names(call.db, (o.requester_user_id for o in rows))
    return Page("orders", {"orders": [_order_row(o, names) for o in rows], "page": page, "pages": pages})


# -- one document ----------------------------------------------------------------------------

def document(call: Call, number: str, message: str | None = None, status: int = 200) -> Page:
    enterprise_id = call.wap.enterprise_id
    user = _user(call)
    order = orders.get_order(call.db, enterprise_id, number)
    if not (order.requester_user_id == user.id or rbac.has_permission(call.db, user, "order.view_all")
            or rbac.has_permission(call.db, user, "order.approve")):
        return notice("Refused", "You may not see this document.", 403)
    link = None
    if "sig" in call.params or "exp" in call.params:
        link = links.check(call.secret, enterprise_id, order.number, call.params.get("exp"),
                           call.params.get("sig"), call.now)
        if link == "invalid":
            return notice("Bad link", "This link is not valid.", 403)
    steps = approvals.steps(call.db, enterprise_id, order.number)
    names = _names(call.db, [order.requester_user_id] + [s.decided_by_user_id for s in steps])
    can_decide = order.state == "pending_approval" and any(
        o.id == order.id for o in approvals.pending_for(call.db, enterprise_id, user.id))
    items = dict(call.db.execute(
        select(Item.id, Item.sku).where(Item.id.in_({line.item_id for line in order.lines} or {0}))).all())
    line_rows, lines_page, lines_pages = _paged(
        [{"sku": items.get(line.item_id, "?"), "quantity": line.quantity, "price": f"{line.unit_price:.2f}",
          "amount": f"{line.amount:.2f}"} for line in order.lines],
        _int(call.params.get("lp"), 1), call.page_size)
    history = [{"decision": s.decision, "by": names.get(s.decided_by_user_id, "?"), "level": s.level,
                "comment": s.comment or "", "at": s.decided_at.strftime("%m-%d %H:%M")} for s in steps]
    return Page("doc", {
        "order": {**_order_row(order, names), "note": order.note or "",
                  "awaiting": order.awaiting_role if order.state == "pending_approval" else None},
        "lines": line_rows, "lines_page": lines_page, "lines_pages": lines_pages,
        "history": history[-call.page_size:], "can_decide": can_decide,
        "status_text": _status_text(order.state, history, can_decide),
        "message": message, "link": link,
    }, status)


def _status_text(state: str, history: list[dict], can_decide: bool) -> str:
    last = history[-1] if history else None
    if state in ("approved", "rejected") and last is not None:
        return f"Already {last['decision']} by {last['by']}."
    if state == "pending_approval":
        return "Waiting for your decision." if can_decide else "Waiting for approval."
    return f"State: {state.replace('_', ' ')}."


def decide(call: Call, number: str) -> Page:
    """Approve or reject; an order already decided shows its state instead of acting twice."""
    # XHTML-MP/HTML submit buttons send their label ("Approve"); WML sends "approve".
    decision = call.params.get("decision", "").strip().lower()
    comment = call.params.get("comment", "").strip()[:approvals.MAX_COMMENT]
    if decision not in ("approve", "reject"):
        return document(call, number, "Choose approve or reject.", 400)
    enterprise_id, user_id = call.wap.enterprise_id, call.wap.user_id
    order = orders.get_order(call.db, enterprise_id, number)
    if not any(o.id == order.id for o in approvals.pending_for(call.db, enterprise_id, user_id)):
        return document(call, order.number, None, 409 if order.state != "pending_approval" else 403)
    try:
        with call.db.begin_nested():
            if decision == "approve":
                approvals.approve(call.db, enterprise_id, order.number, user_id, comment)
            else:
                approvals.reject(call.db, enterprise_id, order.number, user_id, comment)
    except approvals.ReasonRequired:
        return document(call, order.number, "A rejection needs a reason.", 400)
    except ErpError as error:
        return document(call, order.number, f"Not done: {error.code}.", 409)
    done = "Approved." if decision == "approve" else "Rejected."
    return document(call, order.number, done)


# -- stock and alerts ------------------------------------------------------------------------

def stock(call: Call) -> Page:
    enterprise_id = call.wap.enterprise_id
    services.require_open(call.db, enterprise_id, "stock")
    rbac.require(call.db, _user(call), "stock.view")
    query = call.params.get("q", "").strip()[:MAX_QUERY]
    data = {"q": query, "result": None, "error": None, "page": 1, "pages": 1}
    if query:
        try:
            found = stock_of(call.db, enterprise_id, query)
        except (ItemNotFound, SiteNotFound):
            data["error"] = "No such item."
        except AmbiguousItem:
            data["error"] = "Several items match; be more precise."
        else:
            levels, data["page"], data["pages"] = _paged(
                list(found.levels), _int(call.params.get("p"), 1), call.page_size)
            data["result"] = {"sku": found.sku, "name": found.name_en or found.name, "total": found.total,
                              "levels": [{"site": lv.code, "quantity": lv.quantity} for lv in levels]}
    return Page("stock", data)


def alert_list(call: Call, message: str | None = None, status: int = 200) -> Page:
    enterprise_id = call.wap.enterprise_id
    services.require_open(call.db, enterprise_id, alerts.MODULE)
    rules = alerts.subscriptions(call.db, enterprise_id, call.wap.user_id)
    skus = dict(call.db.execute(select(Item.id, Item.sku).where(
        Item.id.in_({r.item_id for r in rules if r.item_id} or {0}))).all())
    sites = dict(call.db.execute(select(Site.id, Site.code).where(
        Site.id.in_({r.site_id for r in rules if r.site_id} or {0}))).all())
    rows = [{"item": skus.get(r.item_id, "ALL") if r.item_id else "ALL",
             "site": sites.get(r.site_id, "") if r.site_id else "", "threshold": r.threshold}
            for r in rules]
    shown, page, pages = _paged(rows, _int(call.params.get("p"), 1), call.page_size)
    return Page("alerts", {"rules": shown, "page": page, "pages": pages, "message": message}, status)


def alert_change(call: Call) -> Page:
    enterprise_id, user_id = call.wap.enterprise_id, call.wap.user_id
    action, sku = call.params.get("action", ""), call.params.get("item", "").strip()[:MAX_QUERY]
    if action not in ("subscribe", "unsubscribe"):
        return alert_list(call, "Choose subscribe or unsubscribe.", 400)
    item_id = None
    if sku and sku.upper() != "ALL":
        try:
            item_id = find_item(call.db, enterprise_id, sku).id
        except (ItemNotFound, AmbiguousItem):
            return alert_list(call, "No such item.", 404)
    try:
        with call.db.begin_nested():
            if action == "subscribe":
                raw = call.params.get("threshold", "").strip()
                if raw and not raw.isdigit():
                    return alert_list(call, "The threshold is a whole number.", 400)
                threshold = min(int(raw), MAX_THRESHOLD) if raw else None
                alerts.subscribe(call.db, enterprise_id, user_id, item_id, threshold)
                message = "Subscribed."
            else:
                ended = alerts.unsubscribe(call.db, enterprise_id, user_id, item_id)
                message = "Unsubscribed." if ended else "You had no such alert."
    except ErpError as error:
        return alert_list(call, f"Not done: {error.code}.", 400)
    return alert_list(call, message)
