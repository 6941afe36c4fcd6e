"""What the operator does to enterprise platforms, written once for both faces of the
operator console: the JSON API (``operator_api``) and the HTML pages (``console``).

Each function is one piece of blocking work for the web thread pool: it takes a Session
and values already checked for type by the face that parsed them, calls erpcore (which
checks them for meaning and refuses with an ``ErpError``), and returns plain data, so
nothing lazy-loads after the unit of work ends. Enterprises are named by code, users by
id within their enterprise; the operator acts as ``actor_user_id`` None.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from erpcore import auth, people, services, tenants
from erpcore.db import session_scope
from erpcore.errors import Conflict, ErpError, InvalidInput, NotFound, PermissionDenied

#: What a face may change on a user (``msisdn`` goes through people.bind_msisdn).
USER_FIELDS = (*people.UPDATABLE, "msisdn")
#: Service actions: "set" opens a closed module or changes an open one's parameters.
SERVICE_ACTIONS = ("open", "change", "close", "set")
#: What a face may set on an enterprise: its own quiet hours (both ends together) and local time.
QUIET_FIELDS = ("quiet_start", "quiet_end", "utc_offset")
HISTORY_LIMIT = 50


def enterprise_data(enterprise) -> dict:
    return {
        "id": enterprise.id, "code": enterprise.code, "name": enterprise.name,
        "name_en": enterprise.name_en, "extension": enterprise.extension, "lang": enterprise.lang,
        "active": bool(enterprise.active), "cloud_id": enterprise.cloud_id,
        **tenants.quiet_settings(enterprise),
    }


def list_enterprises(session) -> list[dict]:
    return [enterprise_data(e) for e in services.list_enterprises(session)]


def create_enterprise(
    session, *, code: str, name: str, extension: str, name_en: str | None = None, lang: str = "zh",
    cloud: str | None = None, admin_username: str = "admin", admin_display_name: str | None = None,
    admin_msisdn: str | None = None, admin_password: str | None = None, modules: Iterable[str] = (),
    requested_by: str,
) -> dict:
    enterprise = services.create_enterprise_platform(
        session, code=code, name=name, extension=extension, name_en=name_en, lang=lang,
        cloud_code=cloud, admin_username=admin_username, admin_display_name=admin_display_name,
        admin_msisdn=admin_msisdn, admin_password=admin_password, modules=list(modules),
        requested_by=requested_by,
    )
    return {**enterprise_data(enterprise), "services": services.list_services(session, enterprise.id)}


def show_enterprise(session, code: str) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    return {**enterprise_data(enterprise), "services": services.list_services(session, enterprise.id)}


def set_quiet_settings(session, code: str, changes: dict) -> dict:
    """Change any of QUIET_FIELDS: text as the operator typed it (``"22:00"``,
    ``"+08:00"``), None for the gateway's default again, equal start and end for no quiet
    hours at all. erpcore checks the values; all of them change or (the caller rolling
    back) none. The enterprise as ``show_enterprise`` gives it."""
    enterprise = services.get_enterprise_by_code(session, code)
    unknown = sorted(set(changes) - set(QUIET_FIELDS))
    if unknown:
        raise InvalidInput(f"cannot update {', '.join(unknown)}; {', '.join(QUIET_FIELDS)} can be",
                           code="enterprise.bad_field", fields=unknown)
    if "quiet_start" in changes or "quiet_end" in changes:
        tenants.set_quiet_hours(session, enterprise.id, changes.get("quiet_start"), changes.get("quiet_end"))
    if "utc_offset" in changes:
        tenants.set_utc_offset(session, enterprise.id, changes["utc_offset"])
    return show_enterprise(session, code)


def services_of(session, code: str) -> list[dict]:
    return services.list_services(session, services.get_enterprise_by_code(session, code).id)


def service_request(session, code: str, module: str, action: str, params: dict | None,
                    requested_by: str) -> dict:
    """Open, change or close one module; the request and the module's new state."""
    enterprise = services.get_enterprise_by_code(session, code)
    services.check_module(module)
    if action not in SERVICE_ACTIONS:
        raise InvalidInput(f"unknown action {action!r}", code="service.bad_action", actions=SERVICE_ACTIONS)
    if action == "set":
        action = "change" if services.is_open(session, enterprise.id, module) else "open"
    run = {"open": services.open_service, "change": services.change_service,
           "close": services.close_service}[action]
    request = run(session, enterprise.id, module, params, requested_by)
    state = {s["module"]: s for s in services.list_services(session, enterprise.id)}[module]
    return {"request": request.as_dict(), "service": state}


def request_history(session, code: str, limit: int = HISTORY_LIMIT) -> list[dict]:
    """Service requests (ok and refused) with their billing state, newest first."""
    return services.request_history(session, services.get_enterprise_by_code(session, code).id, limit)


def users_of(session, code: str) -> list[dict]:
    """The enterprise's users, each with ``locked_until`` (ISO time) while locked out."""
    enterprise = services.get_enterprise_by_code(session, code)
    users = people.list_users(session, enterprise.id)
    locks = auth.locked_until(session, [u["id"] for u in users])
    return [{**u, "locked_until": locks[u["id"]].isoformat() if u["id"] in locks else None} for u in users]


def user_of(session, code: str, user_id: int) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    user = people.get_user(session, enterprise.id, user_id)
    locks = auth.locked_until(session, [user.id])
    return {**people.snapshot(user), "locked_until": locks[user.id].isoformat() if user.id in locks else None}


def create_user(
    session, code: str, *, username: str, display_name: str, msisdn: str | None = None,
    role: str = "clerk", lang: str | None = None, site_id: int | None = None,
    password: str | None = None, push_capable: bool = False,
) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    user = people.create_user(
        session, enterprise.id, None, username=username, display_name=display_name, msisdn=msisdn,
        role=role, lang=lang, site_id=site_id, password=password, push_capable=push_capable,
    )
    return user_of(session, code, user.id)


def update_user(session, code: str, user_id: int, changes: dict) -> dict:
    """Change any of USER_FIELDS; all of them or (the caller rolling back) none."""
    enterprise = services.get_enterprise_by_code(session, code)
    unknown = sorted(set(changes) - set(USER_FIELDS))
    if unknown:
        raise InvalidInput(f"cannot change {', '.join(unknown)}", code="user.bad_field", fields=unknown)
    if not changes:
        raise InvalidInput("nothing to change", code="user.no_change")
    rest = {k: v for k, v in changes.items() if k != "msisdn"}
    if "msisdn" in changes:
        people.bind_msisdn(session, enterprise.id, None, user_id, changes["msisdn"])
    if rest:
        people.update_user(session, enterprise.id, None, user_id, **rest)
    return user_of(session, code, user_id)


def set_password(session, code: str, user_id: int, password: str) -> dict:
    """A new password (which also ends a lockout)."""
    enterprise = services.get_enterprise_by_code(session, code)
    people.set_user_password(session, enterprise.id, None, user_id, password)
    return user_of(session, code, user_id)


def unlock_user(session, code: str, user_id: int) -> dict:
    enterprise = services.get_enterprise_by_code(session, code)
    unlocked = people.unlock_user(session, enterprise.id, None, user_id)
    return {"unlocked": unlocked, "user": user_of(session, code, user_id)}


def in_unit_of_work(sessionmaker, work: Callable, *args, keep_refusals: bool = False, **kwargs):
    """Run ``work(session, ...)`` as one unit of work: everything commits or nothing does.

    With ``keep_refusals`` an ErpError is committed before it is raised again, for the
    service requests whose refusals are themselves recorded (and billed) by erpcore."""
    refused = None
    with session_scope(sessionmaker) as session:
        try:
            return work(session, *args, **kwargs)
        except ErpError as error:
            if not keep_refusals:
                raise
            refused = error
    raise refused


_STATUS = (
    (NotFound, 404), (PermissionDenied, 403), (Conflict, 409), (services.ServiceClosed, 409),
    (InvalidInput, 400),
)


def http_status(error: ErpError) -> int:
    """The HTTP status both faces answer an erpcore refusal with."""
    return next((status for kind, status in _STATUS if isinstance(error, kind)), 400)
