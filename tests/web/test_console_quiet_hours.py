"""An enterprise's quiet hours and UTC offset on the console's enterprise page: shown as its
own or the gateway default, set, set to none, put back to the default, through the same
action as the JSON API's PATCH; a bad time or offset gets erpcore's message with the form
as typed and changes nothing; the form needs the session's CSRF token."""
from __future__ import annotations

import html
import re

import pytest
import pytest_twisted

from erpcore import audit, tenants
from erpcore.db import session_scope
from tests.web import validators
from tests.web.conftest import OPERATOR_TOKEN
from tests.web.console_client import ConsoleClient, csrf_of
from tests.web.test_operator_api_users import call

PAGE = "/console/enterprises/DEMO"
ACTION = "/console/enterprises/DEMO/quiet-hours"
DEFAULT = {"quiet_start": None, "quiet_end": None, "utc_offset": None}


def stored(sessionmaker, enterprise_id) -> dict:
    with session_scope(sessionmaker) as s:
        return tenants.quiet_settings(s.get(tenants.Enterprise, enterprise_id))


def audit_count(sessionmaker, enterprise_id) -> int:
    with session_scope(sessionmaker) as s:
        return len(audit.history(s, enterprise_id, "enterprise", enterprise_id))


def shown(page) -> tuple[str, str]:
    """(quiet hours, UTC offset) as the page states them."""
    found = dict(re.findall(r'<td id="(quiet-hours|utc-offset)">([^<]*)</td>', page.text))
    return found["quiet-hours"], found["utc-offset"]


def field_value(page, name: str) -> str:
    return html.unescape(re.search(rf'name="{name}" value="([^"]*)"', page.text).group(1))


def chosen_mode(page) -> str:
    [mode] = re.findall(r'name="quiet_mode" value="(\w+)" checked="checked"', page.text)
    return mode


async def set_quiet(operator, mode: str, start: str = "", end: str = "", offset: str = ""):
    return await operator.form_post(PAGE, ACTION, {"quiet_mode": mode, "quiet_start": start,
                                                   "quiet_end": end, "utc_offset": offset})


@pytest_twisted.ensureDeferred
async def test_the_page_shows_the_gateway_default_until_the_enterprise_has_its_own(operator, sessionmaker, world):
    await operator.sign_in(OPERATOR_TOKEN)
    page = await operator.get(PAGE)
    assert shown(page) == ("gateway default", "gateway default") and chosen_mode(page) == "default"
    assert field_value(page, "utc_offset") == ""
    with session_scope(sessionmaker) as s:
        tenants.set_quiet_hours(s, world.demo, "23:00", "06:30")
        tenants.set_utc_offset(s, world.demo, "+07:00")
    page = await operator.get(PAGE)
    assert shown(page) == ("23:00-06:30 local time (its own)", "UTC+07:00 (its own)")
    assert chosen_mode(page) == "own"
    assert (field_value(page, "quiet_start"), field_value(page, "quiet_end"), field_value(page, "utc_offset")) == (
        "23:00", "06:30", "+07:00")
    assert validators.check_console_html(page.body) == []


@pytest_twisted.ensureDeferred
async def test_the_operator_sets_own_hours_then_none_then_the_default_again(operator, sessionmaker, world):
    await operator.sign_in(OPERATOR_TOKEN)
    own = await set_quiet(operator, "own", "21:00", "7:30", "+5:30")
    assert own.status == 303 and own.location == PAGE
    assert stored(sessionmaker, world.demo) == {"quiet_start": "21:00", "quiet_end": "07:30", "utc_offset": "+05:30"}
    page = await operator.get(PAGE)
    assert ("Quiet hours of DEMO: 21:00-07:30 local time (its own); UTC offset: UTC+05:30 (its own)."
            in html.unescape(page.text))
    assert shown(page) == ("21:00-07:30 local time (its own)", "UTC+05:30 (its own)")

    none = await set_quiet(operator, "none", offset="+05:30")
    assert none.status == 303
    assert stored(sessionmaker, world.demo) == {"quiet_start": "00:00", "quiet_end": "00:00", "utc_offset": "+05:30"}
    page = await operator.get(PAGE)
    assert shown(page) == ("none (its own setting)", "UTC+05:30 (its own)") and chosen_mode(page) == "none"

    back = await set_quiet(operator, "default", "22:00", "06:00")  # boxes ignored, offset emptied
    assert back.status == 303
    assert stored(sessionmaker, world.demo) == DEFAULT
    assert shown(await operator.get(PAGE)) == ("gateway default", "gateway default")


@pytest_twisted.ensureDeferred
async def test_only_what_differs_is_changed_and_an_unchanged_form_changes_nothing(operator, sessionmaker, world):
    await operator.sign_in(OPERATOR_TOKEN)
    await set_quiet(operator, "own", "22:30", "06:00")
    assert audit_count(sessionmaker, world.demo) == 1  # the window; the offset stayed the default
    again = await set_quiet(operator, "own", "22:30", "06:00")
    assert "Nothing to change." in (await operator.get(again.location)).text
    assert audit_count(sessionmaker, world.demo) == 1
    await set_quiet(operator, "own", "22:30", "06:00", "+09:00")
    assert audit_count(sessionmaker, world.demo) == 2  # the offset alone
    with session_scope(sessionmaker) as s:
        [_window, offset] = audit.history(s, world.demo, "enterprise", world.demo)
        assert (offset.action, offset.actor_user_id) == ("enterprise.utc_offset", None)


@pytest.mark.parametrize("mode, start, end, offset, status, message", [
    ("own", "25:00", "07:00", "", 400, "quiet hours: '25:00' is not a time of day; write HH:MM from 00:00 to 23:59"),
    ("own", "22:00", "7pm", "+08:00", 400, "'7pm' is not a time of day"),
    ("own", "21:00", "06:00", "+15:00", 400,
     "UTC offset '+15:00' is not valid; write hours east of UTC from -12:00 to +14:00"),
    ("default", "", "", "+8:20", 400, "in steps of 15 minutes, e.g. +08:00 or -03:30"),
    ("own", "22:00", "", "", 400, "quiet hours need both a start and an end (HH:MM)"),
    ("own", "", "", "+08:00", 400, "Give the start and end of its quiet hours (HH:MM, local time)"),
    ("always", "22:00", "06:00", "", 400, "Choose its own quiet hours, none, or the gateway default."),
])
@pytest_twisted.ensureDeferred
async def test_bad_input_gets_a_clear_message_the_form_as_typed_and_changes_nothing(
        operator, sessionmaker, world, mode, start, end, offset, status, message):
    with session_scope(sessionmaker) as s:  # its own settings, so that a half-done change would show
        tenants.set_quiet_hours(s, world.demo, "23:00", "06:30")
        tenants.set_utc_offset(s, world.demo, "+07:00")
    before, entries = stored(sessionmaker, world.demo), audit_count(sessionmaker, world.demo)
    await operator.sign_in(OPERATOR_TOKEN)
    answer = await set_quiet(operator, mode, start, end, offset)
    assert answer.status == status and message in html.unescape(answer.text)
    assert 'class="error"' in answer.text and "<h1>Enterprise DEMO</h1>" in answer.text
    assert (field_value(answer, "quiet_start"), field_value(answer, "quiet_end"),
            field_value(answer, "utc_offset")) == (start, end, offset)
    assert re.findall(r'name="quiet_mode" value="(\w+)" checked="checked"', answer.text) == (
        [mode] if mode != "always" else [])
    assert shown(answer) == ("23:00-06:30 local time (its own)", "UTC+07:00 (its own)")  # what is stored
    assert validators.check_console_html(answer.body) == []
    assert stored(sessionmaker, world.demo) == before and audit_count(sessionmaker, world.demo) == entries


@pytest_twisted.ensureDeferred
async def test_an_unknown_enterprise_is_not_found(operator):
    await operator.sign_in(OPERATOR_TOKEN)
    page = await operator.get(PAGE)
    answer = await operator.post("/console/enterprises/NOPE/quiet-hours",
                                 {"quiet_mode": "none", "csrf": csrf_of(page)})
    assert answer.status == 404 and "no enterprise 'NOPE'" in html.unescape(answer.text)
    assert (await operator.get(ACTION)).status == 405


@pytest_twisted.ensureDeferred
async def test_the_form_needs_the_sessions_csrf_token(operator, sessionmaker, world):
    await operator.sign_in(OPERATOR_TOKEN)
    other = ConsoleClient(operator.base)
    await other.sign_in(OPERATOR_TOKEN)
    others_token = csrf_of(await other.get("/console/"))
    fields = {"quiet_mode": "own", "quiet_start": "20:00", "quiet_end": "08:00", "utc_offset": "+03:00"}
    for csrf in (None, "", "forged", others_token):
        answer = await operator.post(ACTION, fields | ({"csrf": csrf} if csrf is not None else {}))
        assert answer.status == 403 and "Nothing changed." in answer.text
    anonymous = await ConsoleClient(operator.base).post(ACTION, fields | {"csrf": others_token})
    assert anonymous.status == 303 and anonymous.location == "/console/sign-in"
    assert stored(sessionmaker, world.demo) == DEFAULT and audit_count(sessionmaker, world.demo) == 0


@pytest_twisted.ensureDeferred
async def test_the_api_and_the_console_set_the_same_thing(operator, sessionmaker, world, operator_site):
    """The JSON API's PATCH and the form go through one action: what one sets, the other shows."""
    base = operator_site[0]
    status, body = await call(base, "PATCH", "/api/enterprises/DEMO", {"quiet_start": "20:15", "quiet_end": "05:45"})
    assert status == 200 and (body["quiet_start"], body["utc_offset"]) == ("20:15", None)
    await operator.sign_in(OPERATOR_TOKEN)
    assert shown(await operator.get(PAGE)) == ("20:15-05:45 local time (its own)", "gateway default")
    await set_quiet(operator, "none", offset="-03:30")
    status, body = await call(base, "GET", "/api/enterprises/DEMO")
    assert {k: body[k] for k in DEFAULT} == {"quiet_start": "00:00", "quiet_end": "00:00", "utc_offset": "-03:30"}
    status, body = await call(base, "PATCH", "/api/enterprises/DEMO", {"utc_offset": "+25:00"})
    assert (status, body["error"]["code"]) == (400, "tenant.quiet_hours")
    answer = await set_quiet(operator, "none", offset="+25:00")
    assert answer.status == 400 and body["error"]["message"] in html.unescape(answer.text)  # the same words
