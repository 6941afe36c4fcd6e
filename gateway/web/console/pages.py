"""What each console page shows and what each form does (run on the web thread pool).

A GET builds a ``Page`` from ``operator_actions`` in one unit of work. A POST runs one
action in its own unit of work and answers with a ``Redirect`` to the page showing the
result (post/redirect/get, with a one-shot message). When the form or erpcore refuses,
that unit of work rolls back (a refused service request stays on record, as erpcore
wants) and the resource shows the page again with the error and the values as typed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from erpcore import rbac, services
from erpcore.tenants import LANGUAGES
from gateway.web import operator_actions as actions
from gateway.web.operator_actions import in_unit_of_work

REQUESTED_BY = "operator-console"
MAX_FIELD = 4000
SERVICE_ACTIONS = ("open", "change", "close")
QUIET_MODES = ("own", "none", "default")  # its own window, no quiet hours, the gateway's
NO_QUIET_HOURS = ("00:00", "00:00")  # equal start and end: no quiet hours at all
GATEWAY_DEFAULT = "gateway default"
_SECRET_FIELDS = ("password", "confirm", "admin_password", "token", "csrf")
_TRUE = ("on", "1", "yes", "true")


@dataclass
class Page:
    template: str
    data: dict = field(default_factory=dict)
    status: int = 200


@dataclass
class Redirect:
    path: str  # under the console, e.g. "enterprises/ACME"
    flash: str | None = None


class FormError(Exception):
    """A field the console refuses before erpcore sees it (nothing is changed)."""

    status = 400


class Form:
    """The submitted fields as text: the first value of each, or all of a repeated one."""

    def __init__(self, args: dict[bytes, list[bytes]] | None):
        self._values: dict[str, list[str]] = {}
        for key, values in (args or {}).items():
            try:
                self._values[key.decode("utf-8")] = [v.decode("utf-8")[:MAX_FIELD] for v in values]
            except UnicodeDecodeError:
                continue

    def text(self, name: str) -> str:
        return (self._values.get(name) or [""])[0].strip()

    def optional(self, name: str) -> str | None:
        """The text, or None when the field is empty or missing."""
        return self.text(name) or None

    def flag(self, name: str) -> bool:
        """A checkbox: ticked or not (an unticked box sends nothing)."""
        return self.text(name).lower() in _TRUE

    def all(self, name: str) -> list[str]:
        return [v.strip() for v in self._values.get(name, []) if v.strip()]

    def raw(self, name: str) -> str:
        return (self._values.get(name) or [""])[0]

    def shown(self) -> dict:
        """What to put back in the form after a refusal (never a secret)."""
        return {k: (v if len(v) > 1 else v[0]) for k, v in self._values.items() if k not in _SECRET_FIELDS}


def _choices() -> dict:
    return {"roles": rbac.ROLES, "langs": LANGUAGES, "modules": services.MODULES}


# -- pages (GET) ------------------------------------------------------------------------------

def enterprises_page(db) -> Page:
    return Page("enterprises", {"title": "Enterprise platforms", "enterprises": actions.list_enterprises(db)})


def new_enterprise_page(db) -> Page:
    return Page("enterprise_new", {"title": "New enterprise platform", **_choices()})


def quiet_view(enterprise: dict) -> dict:
    """The enterprise's quiet settings in words (``window``, ``offset``) and as the form
    starts (``mode``, ``start``, ``end``)."""
    start, end, offset = enterprise["quiet_start"], enterprise["quiet_end"], enterprise["utc_offset"]
    mode = "default" if start is None else "none" if start == end else "own"
    window = {"default": GATEWAY_DEFAULT, "none": "none (its own setting)",
              "own": f"{start}-{end} local time (its own)"}[mode]
    return {"mode": mode, "window": window, "start": start if mode == "own" else "",
            "end": end if mode == "own" else "",
            "offset": f"UTC{offset} (its own)" if offset is not None else GATEWAY_DEFAULT}


def enterprise_page(db, code: str) -> Page:
    enterprise = actions.show_enterprise(db, code)
    return Page("enterprise", {
        "title": f"Enterprise {enterprise['code']}", "enterprise": enterprise, "quiet": quiet_view(enterprise),
        "services": [{**s, "params_text": json.dumps(s["params"], ensure_ascii=False) if s["params"] else ""}
                     for s in enterprise["services"]],
        "users": actions.users_of(db, code),
        "history": actions.request_history(db, code), **_choices(),
    })


def user_page(db, code: str, user_id: int) -> Page:
    enterprise = actions.show_enterprise(db, code)
    user = actions.user_of(db, code, user_id)
    return Page("user", {"title": f"User {user['username']} of {enterprise['code']}",
                         "enterprise": enterprise, "user": user, **_choices()})


# -- forms (POST) -----------------------------------------------------------------------------

def create_enterprise(maker, form: Form) -> Redirect:
    created = in_unit_of_work(
        maker, actions.create_enterprise, code=form.text("code"), name=form.text("name"),
        extension=form.text("extension"), name_en=form.optional("name_en"), lang=form.text("lang") or "zh",
        cloud=form.optional("cloud"), admin_username=form.text("admin_username") or "admin",
        admin_display_name=form.optional("admin_display_name"), admin_msisdn=form.optional("admin_msisdn"),
        admin_password=form.raw("admin_password") or None, modules=form.all("modules"),
        requested_by=REQUESTED_BY,
    )
    return Redirect(f"enterprises/{created['code']}", f"Enterprise platform {created['code']} created.")


def _params(form: Form) -> dict | None:
    text = form.text("params")
    if not text:
        return None
    try:
        params = json.loads(text)
    except ValueError:
        raise FormError('Parameters are a JSON object, e.g. {"limit": 5}; leave the box empty for none.') from None
    if not isinstance(params, dict):
        raise FormError('Parameters are a JSON object, e.g. {"limit": 5}; leave the box empty for none.')
    return params


def service(maker, form: Form, code: str, module: str) -> Redirect:
    action = form.text("action")
    if action not in SERVICE_ACTIONS:
        raise FormError("Choose open, change or close.")
    params = None if action == "close" else _params(form)
    done = in_unit_of_work(maker, actions.service_request, code, module, action, params, REQUESTED_BY,
                           keep_refusals=True)
    return Redirect(f"enterprises/{code}", f"Service {module}: {done['request']['action']} done, "
                                           f"now {done['service']['state']}.")


def quiet_hours(maker, form: Form, code: str) -> Redirect:
    """Its own quiet hours, none, or the gateway's; its UTC offset (empty: the gateway's).
    Only what differs from the stored settings is changed, through the action the JSON
    API's PATCH uses; erpcore refuses a bad time or offset and nothing changes."""
    mode = form.text("quiet_mode")
    if mode not in QUIET_MODES:
        raise FormError("Choose its own quiet hours, none, or the gateway default.")
    start, end = (form.optional("quiet_start"), form.optional("quiet_end")) if mode == "own" \
        else NO_QUIET_HOURS if mode == "none" else (None, None)
    if mode == "own" and start is None and end is None:
        raise FormError("Give the start and end of its quiet hours (HH:MM, local time), "
                        "or choose none or the gateway default.")
    offset = form.optional("utc_offset")

    def work(db):
        current = actions.show_enterprise(db, code)
        changes = {}
        if (start, end) != (current["quiet_start"], current["quiet_end"]):
            changes.update(quiet_start=start, quiet_end=end)
        if offset != current["utc_offset"]:
            changes["utc_offset"] = offset
        return (actions.set_quiet_settings(db, code, changes) if changes else current), changes

    enterprise, changes = in_unit_of_work(maker, work)
    if not changes:
        return Redirect(f"enterprises/{code}", "Nothing to change.")
    shown = quiet_view(enterprise)
    return Redirect(f"enterprises/{code}", f"Quiet hours of {enterprise['code']}: {shown['window']}; "
                                           f"UTC offset: {shown['offset']}.")


def add_user(maker, form: Form, code: str) -> Redirect:
    user = in_unit_of_work(
        maker, actions.create_user, code, username=form.text("username"),
        display_name=form.text("display_name"), msisdn=form.optional("msisdn"),
        role=form.text("role") or "clerk", lang=form.optional("lang"),
        password=form.raw("password") or None, push_capable=form.flag("push_capable"),
    )
    return Redirect(f"enterprises/{code}/users/{user['id']}", f"User {user['username']} added.")


def update_user(maker, form: Form, code: str, user_id: int) -> Redirect:
    """The form holds every editable field; only those that differ are changed."""
    def work(db):
        current = actions.user_of(db, code, user_id)
        wanted = {"display_name": form.text("display_name"), "role": form.text("role"),
                  "lang": form.optional("lang"), "msisdn": form.optional("msisdn"),
                  "push_capable": form.flag("push_capable")}
        changes = {k: v for k, v in wanted.items() if v != current[k]}
        if changes:
            actions.update_user(db, code, user_id, changes)
        return current["username"], changes

    username, changes = in_unit_of_work(maker, work)
    message = f"User {username}: {', '.join(sorted(changes))} changed." if changes else "Nothing to change."
    return Redirect(f"enterprises/{code}/users/{user_id}", message)


def reset_password(maker, form: Form, code: str, user_id: int) -> Redirect:
    password = form.raw("password")
    if password != form.raw("confirm"):
        raise FormError("The two passwords differ; nothing changed.")
    user = in_unit_of_work(maker, actions.set_password, code, user_id, password)
    return Redirect(f"enterprises/{code}/users/{user_id}", f"Password of {user['username']} reset.")


def unlock(maker, form: Form, code: str, user_id: int) -> Redirect:
    done = in_unit_of_work(maker, actions.unlock_user, code, user_id)
    message = "unlocked" if done["unlocked"] else "was not locked out; nothing to do"
    return Redirect(f"enterprises/{code}/users/{user_id}", f"User {done['user']['username']} {message}.")
