"""Service lifecycle (seed 000 figs. 5-7): the operator creates an enterprise platform,
then business modules are opened, changed and closed per enterprise, by the operator
console (CRM) or by the enterprise admin's phone with enterprise code and password.

Every request and its result is recorded in `service_requests` and reported to a
pluggable billing/CRM hook. A request is checked completely before anything changes, so a
refused request changes nothing but its own record; the error is then raised, and a
caller that wants the refusal on record catches it inside its unit of work (as the
command layer and the operator API do). A failing hook does not undo the change: the
request is marked for `retry_billing`.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import (
    CheckConstraint, DateTime, ForeignKey, String, UniqueConstraint, bindparam, select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from erpcore import audit, auth, memo, people, rbac
from erpcore.audit import JsonText
from erpcore.base import MYSQL_TABLE_OPTIONS, Base
from erpcore.clouds import get_cloud
from erpcore.errors import Conflict, ErpError, InvalidInput, NotFound
from erpcore.tenants import LANGUAGES, Enterprise
from erpcore.users import User, find_by_msisdn

log = logging.getLogger(__name__)

MODULES = ("stock", "orders", "approval", "alerts", "tasks", "sync", "sharing")
ACTIONS = ("open", "change", "close")
CONSOLE, PHONE = "console", "phone"
MAX_PARAMS_CHARS = 2000
_ENTERPRISE_CODE = re.compile(r"[A-Za-z0-9_-]{2,32}")
_EXTENSION = re.compile(r"\d{1,8}")

BillingHook = Callable[[dict], None]
_billing_hook: BillingHook | None = None


class ServiceError(ErpError):
    code = "service.error"


class ServiceClosed(ServiceError):
    """The module is not open for this enterprise (the command layer answers with this)."""

    code = "service.closed"


class ServiceAlreadyOpen(Conflict):
    code = "service.already_open"


class UnknownModule(InvalidInput):
    code = "service.unknown_module"


class EnterpriseNotFound(NotFound):
    code = "enterprise.not_found"


class EnterpriseExists(Conflict):
    code = "enterprise.exists"


class ServiceSubscription(Base):
    """The state of one module for one enterprise (a row exists once it was ever opened)."""

    __tablename__ = "service_subscriptions"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "module"),
        CheckConstraint("state IN ('open', 'closed')", name="state"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    module: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict | None] = mapped_column(JsonText)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class ServiceRequest(Base):
    """One request (create/open/change/close), its result and its billing report."""

    __tablename__ = "service_requests"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    id: Mapped[int] = mapped_column(primary_key=True)
    # None when the request named an enterprise that does not exist.
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    enterprise_code: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(8))
    module: Mapped[str] = mapped_column(String(16))
    params: Mapped[dict | None] = mapped_column(JsonText)
    channel: Mapped[str] = mapped_column(String(8))
    requested_by: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(8))  # "ok" | "refused"
    error_code: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(DateTime)
    # "recorded" (no hook), "reported" (hook accepted it), "retry" (hook failed)
    billing_state: Mapped[str] = mapped_column(String(8), index=True)
    billing_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    billing_error: Mapped[str | None] = mapped_column(String(255))

    @property
    def ok(self) -> bool:
        return self.result == "ok"

    def as_dict(self) -> dict:
        return {
            "id": self.id, "enterprise_code": self.enterprise_code, "action": self.action,
            "module": self.module, "params": self.params, "channel": self.channel,
            "requested_by": self.requested_by, "result": self.result,
            "error_code": self.error_code, "message": self.message,
            "at": self.at.isoformat() if self.at else None,
        }


# -- billing -----------------------------------------------------------------------------

def set_billing_hook(hook: BillingHook | None) -> BillingHook | None:
    """Install the callable every request is reported to (a dict, see
    ServiceRequest.as_dict); None restores the default (the table is the record).
    Returns the previous hook."""
    global _billing_hook
    previous, _billing_hook = _billing_hook, hook
    return previous


def _report(request: ServiceRequest) -> None:
    hook = _billing_hook
    if hook is None:
        request.billing_state = request.billing_state if request.billing_state == "retry" else "recorded"
        return
    request.billing_attempts = (request.billing_attempts or 0) + 1
    try:
        hook(request.as_dict())
    except Exception as error:  # the hook is foreign code: any failure means "try again"
        log.warning("billing hook failed for service request %s: %r", request.id, error)
        request.billing_state = "retry"
        request.billing_error = repr(error)[:255]
    else:
        request.billing_state = "reported"
        request.billing_error = None


def retry_billing(session: Session, limit: int = 100) -> int:
    """Report again the requests the hook failed on; returns how many it now accepted."""
    if _billing_hook is None:
        return 0
    pending = session.scalars(
        select(ServiceRequest).where(ServiceRequest.billing_state == "retry")
        .order_by(ServiceRequest.id).limit(limit)
    ).all()
    for request in pending:
        _report(request)
    session.flush()
    return sum(1 for request in pending if request.billing_state == "reported")


def _log_request(
    session: Session, enterprise_code: str, enterprise_id: int | None, action: str, module: str,
    params: dict | None, channel: str, requested_by: str, error: ErpError | None = None,
) -> ServiceRequest:
    request = ServiceRequest(
        enterprise_id=enterprise_id, enterprise_code=str(enterprise_code)[:32], action=action[:8],
        module=str(module)[:16], params=_storable(params), channel=channel,
        requested_by=str(requested_by)[:64], result="ok" if error is None else "refused",
        error_code=None if error is None else error.code,
        message=None if error is None else str(error)[:255], at=audit.clock(),
        billing_state="recorded", billing_attempts=0,
    )
    session.add(request)
    session.flush()
    _report(request)
    session.flush()
    return request


def _storable(params: object) -> dict | None:
    """Params as given when they are a dict, else a note of what came (for the record)."""
    if params is None or isinstance(params, dict):
        try:
            return audit.plain(params)
        except (TypeError, ValueError):
            return {"unstorable": repr(params)[:200]}
    return {"invalid": repr(params)[:200]}


# -- queries -----------------------------------------------------------------------------

def check_module(module: str) -> str:
    if module not in MODULES:
        raise UnknownModule(f"unknown module {module!r}", module=module, modules=MODULES)
    return module


def _subscription(session: Session, enterprise_id: int, module: str) -> ServiceSubscription | None:
    return session.scalars(_SUBSCRIPTION, {"enterprise_id": enterprise_id, "module": module}).first()


def remember_subscriptions(session: Session, enterprise_ids: Iterable[int]) -> None:
    """Read the state of every module of these enterprises in one query and keep it for
    the rest of the transaction (a dispatcher batch: one query, not one per command for
    its "is the module open" check). Plain states, not mapped rows (a batch's hundreds of
    rows cost more to build than to read); a subscription written through the session
    drops them all (erpcore.memo.forget_on_flush), so a change is never answered past."""
    kept = memo.memo(session, _SUBSCRIPTIONS_MEMO)
    wanted = sorted({eid for eid in enterprise_ids if (eid, MODULES[0]) not in kept})
    if not wanted:
        return
    states = {(eid, module): state
              for eid, module, state in session.execute(_SUBSCRIPTIONS_OF, {"enterprise_ids": wanted})}
    for enterprise_id in wanted:
        for module in MODULES:
            kept.setdefault((enterprise_id, module), states.get((enterprise_id, module), "never"))


_SUBSCRIPTIONS_MEMO = "merp.subscriptions"
memo.forget_on_flush(ServiceSubscription, _SUBSCRIPTIONS_MEMO)
_SUBSCRIPTION = select(ServiceSubscription).where(
    ServiceSubscription.enterprise_id == bindparam("enterprise_id"),
    ServiceSubscription.module == bindparam("module"),
)
_SUBSCRIPTIONS_OF = select(ServiceSubscription.enterprise_id, ServiceSubscription.module,
                            ServiceSubscription.state).where(
    ServiceSubscription.enterprise_id.in_(bindparam("enterprise_ids", expanding=True))
)


def is_open(session: Session, enterprise_id: int, module: str) -> bool:
    check_module(module)
    kept = memo.settled(session, _SUBSCRIPTIONS_MEMO)
    state = kept.get((enterprise_id, module)) if kept else None
    if state is None:
        row = _subscription(session, enterprise_id, module)
        state = row.state if row is not None else "never"
    return state == "open"


def require_open(session: Session, enterprise_id: int, module: str) -> None:
    """Raise ServiceClosed (code "service.closed") unless ``module`` is open."""
    if not is_open(session, enterprise_id, module):
        raise ServiceClosed(f"module {module!r} is not open", module=module)


def list_services(session: Session, enterprise_id: int) -> list[dict]:
    """Every module with its state ("open", "closed", or "never" opened) and params."""
    rows = {
        row.module: row
        for row in session.scalars(
            select(ServiceSubscription).where(ServiceSubscription.enterprise_id == enterprise_id)
        )
    }
    result = []
    for module in MODULES:
        row = rows.get(module)
        result.append({
            "module": module,
            "state": row.state if row else "never",
            "params": (row.params or {}) if row else {},
            "opened_at": row.opened_at.isoformat() if row and row.opened_at else None,
        })
    return result


def list_enterprises(session: Session) -> list[Enterprise]:
    """Every enterprise platform (active or not), by code."""
    return list(session.scalars(select(Enterprise).order_by(Enterprise.code)))


def request_history(session: Session, enterprise_id: int, limit: int = 50) -> list[dict]:
    """The enterprise's latest service requests, newest first, with their billing state."""
    rows = session.scalars(
        select(ServiceRequest).where(ServiceRequest.enterprise_id == enterprise_id)
        .order_by(ServiceRequest.id.desc()).limit(limit)
    )
    return [{**r.as_dict(), "billing_state": r.billing_state, "billing_attempts": r.billing_attempts,
             "billing_error": r.billing_error} for r in rows]


def get_enterprise(session: Session, enterprise_id: int) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id) if isinstance(enterprise_id, int) else None
    if enterprise is None:
        raise EnterpriseNotFound(f"no enterprise {enterprise_id!r}", enterprise=enterprise_id)
    return enterprise


def get_enterprise_by_code(session: Session, code: str) -> Enterprise:
    enterprise = session.scalars(select(Enterprise).where(Enterprise.code == code)).first()
    if enterprise is None:
        raise EnterpriseNotFound(f"no enterprise {code!r}", enterprise=code)
    return enterprise


# -- the lifecycle -----------------------------------------------------------------------

def _check_params(params: object) -> dict:
    if params is None:
        return {}
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise InvalidInput("params must be an object with text keys", code="service.bad_params")
    try:
        text = audit.JsonText().process_bind_param(params, None)
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"params cannot be stored: {error}", code="service.bad_params") from None
    if len(text) > MAX_PARAMS_CHARS:
        raise InvalidInput("params too long", code="service.bad_params", limit=MAX_PARAMS_CHARS)
    return audit.plain(params)


def _check(session: Session, enterprise: Enterprise, action: str, module: str, params: object) -> dict:
    """Everything that can refuse the request, before anything changes."""
    if action not in ACTIONS:
        raise InvalidInput(f"unknown action {action!r}", code="service.bad_action", actions=ACTIONS)
    check_module(module)
    clean = _check_params(params)
    open_now = is_open(session, enterprise.id, module)
    if action == "open" and open_now:
        raise ServiceAlreadyOpen(f"module {module!r} is already open", module=module)
    if action in ("change", "close") and not open_now:
        raise ServiceClosed(f"module {module!r} is not open", module=module)
    return clean


def _apply(session: Session, enterprise: Enterprise, action: str, module: str, params: dict):
    row = _subscription(session, enterprise.id, module)
    before = _snapshot(row)
    now = audit.clock()
    if row is None:
        row = ServiceSubscription(enterprise_id=enterprise.id, module=module, updated_at=now)
        session.add(row)
    if action == "open":
        row.state, row.params, row.opened_at, row.closed_at = "open", params, now, None
    elif action == "change":
        row.params = params
    else:
        row.state, row.closed_at = "closed", now
    row.updated_at = now
    session.flush()
    return row, before, _snapshot(row)


def _snapshot(row: ServiceSubscription | None) -> dict | None:
    if row is None:
        return None
    return {"module": row.module, "state": row.state, "params": row.params or {}}


def _request(
    session: Session, enterprise: Enterprise, action: str, module: str, params: object,
    channel: str, requested_by: str, actor_user_id: int | None,
) -> ServiceRequest:
    try:
        clean = _check(session, enterprise, action, module, params)
    except ErpError as error:
        _log_request(session, enterprise.code, enterprise.id, str(action), str(module), _storable(params),
                     channel, requested_by, error)
        raise
    row, before, after = _apply(session, enterprise, action, module, clean)
    audit.record(session, enterprise.id, actor_user_id, f"service.{action}", "service", module, before, after)
    return _log_request(session, enterprise.code, enterprise.id, action, module, clean, channel, requested_by)


def _operator_request(
    session: Session, enterprise_id: int, action: str, module: str, params: object,
    requested_by: str, actor_user_id: int | None,
) -> ServiceRequest:
    enterprise = get_enterprise(session, enterprise_id)
    if actor_user_id is not None:
        actor = people.get_actor(session, enterprise.id, actor_user_id)
        rbac.require(session, actor, "service.manage")
    return _request(session, enterprise, action, module, params, CONSOLE, requested_by, actor_user_id)


def open_service(
    session: Session, enterprise_id: int, module: str, params: dict | None = None,
    requested_by: str = "operator", *, actor_user_id: int | None = None,
) -> ServiceRequest:
    """Open ``module`` for the enterprise (fig. 5). ``actor_user_id`` None: the operator."""
    return _operator_request(session, enterprise_id, "open", module, params, requested_by, actor_user_id)


def change_service(
    session: Session, enterprise_id: int, module: str, params: dict | None = None,
    requested_by: str = "operator", *, actor_user_id: int | None = None,
) -> ServiceRequest:
    """Replace the parameters of an open module (fig. 6)."""
    return _operator_request(session, enterprise_id, "change", module, params, requested_by, actor_user_id)


def close_service(
    session: Session, enterprise_id: int, module: str, params: dict | None = None,
    requested_by: str = "operator", *, actor_user_id: int | None = None,
) -> ServiceRequest:
    """Close an open module (fig. 7); its data stays, commands answer service.closed."""
    return _operator_request(session, enterprise_id, "close", module, params, requested_by, actor_user_id)


def request_from_phone(
    session: Session, enterprise_code: str, password: str, action: str, module: str,
    params: dict | None = None, *, msisdn: str | None = None,
) -> ServiceRequest:
    """A request from a handset carrying the enterprise code and the admin's password.

    The password is checked against the admin bound to ``msisdn`` when given, else
    against every active user allowed `service.manage`; a wrong password counts as a
    failure for each of them (auth lockout)."""
    enterprise = session.scalars(
        select(Enterprise).where(Enterprise.code == enterprise_code, Enterprise.active.is_(True))
    ).first()
    requested_by = f"phone:{msisdn}" if msisdn else "phone"
    try:
        if enterprise is None:
            raise auth.AuthenticationFailed("wrong enterprise or password")
        admin = _phone_admin(session, enterprise, password, msisdn)
    except ErpError as error:
        _log_request(
            session, str(enterprise_code), enterprise.id if enterprise else None, str(action),
            str(module), _storable(params), PHONE, requested_by, error,
        )
        raise
    return _request(
        session, enterprise, action, module, params, PHONE, f"phone:{admin.username}", admin.id
    )


def _phone_admin(session: Session, enterprise: Enterprise, password: str, msisdn: str | None) -> User:
    if msisdn is not None:
        user = find_by_msisdn(session, enterprise.id, msisdn)
        candidates = [user] if user is not None else []
    else:
        candidates = list(session.scalars(
            select(User).where(User.enterprise_id == enterprise.id, User.active.is_(True)).order_by(User.id)
        ))
    candidates = [u for u in candidates if rbac.has_permission(session, u, "service.manage")]
    locked = None
    for user in candidates:
        try:
            if auth.verify_password(session, user, password if isinstance(password, str) else ""):
                return user
        except auth.AccountLocked as error:
            locked = error
    if locked is not None:
        raise locked
    raise auth.AuthenticationFailed("wrong enterprise or password")


def create_enterprise_platform(
    session: Session, *, code: str, name: str, extension: str, name_en: str | None = None,
    lang: str = "zh", cloud_code: str | None = None, admin_username: str = "admin",
    admin_display_name: str | None = None, admin_msisdn: str | None = None,
    admin_password: str | None = None, modules: Iterable[str] = (),
    requested_by: str = "operator",
) -> Enterprise:
    """Create an enterprise with its admin user (fig. 5 S501-S503), then open ``modules``."""
    _check_new_enterprise(session, code, name, extension, lang, name_en)
    people.check_new_user(admin_username, admin_display_name or admin_username, admin_msisdn, admin_password)
    modules = tuple(modules)
    for module in modules:
        check_module(module)
    cloud = get_cloud(session, cloud_code) if cloud_code else None
    enterprise = Enterprise(
        code=code, name=name, name_en=name_en, extension=extension, lang=lang,
        cloud_id=cloud.id if cloud else None,
    )
    session.add(enterprise)
    session.flush()
    audit.record(session, enterprise.id, None, "enterprise.create", "enterprise", enterprise.id, None,
                 {"code": code, "name": name, "extension": extension, "lang": lang,
                  "cloud": cloud_code})
    people.create_user(
        session, enterprise.id, None, username=admin_username,
        display_name=admin_display_name or admin_username, msisdn=admin_msisdn, role="admin",
        password=admin_password,
    )
    _log_request(session, code, enterprise.id, "create", "platform", None, CONSOLE, requested_by)
    for module in modules:
        _request(session, enterprise, "open", module, None, CONSOLE, requested_by, None)
    return enterprise


def _check_new_enterprise(session, code, name, extension, lang, name_en) -> None:
    if not isinstance(code, str) or not _ENTERPRISE_CODE.fullmatch(code):
        raise InvalidInput("an enterprise code is 2-32 letters, digits, - or _", code="enterprise.bad_code")
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise InvalidInput("an enterprise needs a name (up to 128 characters)", code="enterprise.bad_name")
    if name_en is not None and (not isinstance(name_en, str) or len(name_en) > 128):
        raise InvalidInput("name_en is up to 128 characters", code="enterprise.bad_name")
    if not isinstance(extension, str) or not _EXTENSION.fullmatch(extension):
        raise InvalidInput("an extension is 1-8 digits", code="enterprise.bad_extension")
    if lang not in LANGUAGES:
        raise InvalidInput(f"lang is one of {', '.join(LANGUAGES)}", code="enterprise.bad_lang")
    taken = session.scalars(
        select(Enterprise).where((Enterprise.code == code) | (Enterprise.extension == extension))
    ).first()
    if taken is not None:
        what = "code" if taken.code == code else "extension"
        raise EnterpriseExists(f"an enterprise with this {what} exists", field=what)


def ensure_open(
    session: Session, enterprise_id: int, modules: Iterable[str] = MODULES, requested_by: str = "seed",
) -> list[str]:
    """Open whichever of ``modules`` is not open (idempotent, for seeds); returns them."""
    enterprise = get_enterprise(session, enterprise_id)
    opened = []
    for module in modules:
        if not is_open(session, enterprise.id, module):
            _request(session, enterprise, "open", module, None, CONSOLE, requested_by, None)
            opened.append(module)
    return opened
