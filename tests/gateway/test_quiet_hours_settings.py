"""An enterprise's quiet hours set by the operator: `merp admin quiet-hours` and the JSON
API's PATCH /api/enterprises/CODE. Bad values are refused with what to write instead and
change nothing."""
from __future__ import annotations

import io

import pytest
import pytest_twisted
from sqlalchemy import select

from erpcore import tenants
from erpcore.db import session_scope
from erpcore.demo import seed_demo
from gateway import admin_cli
from tests.gateway.test_web_operator_api import api, call  # noqa: F401 - the API fixture

DEFAULT = {"quiet_start": None, "quiet_end": None, "utc_offset": None}


def stored(sessionmaker, code="DEMO"):
    with session_scope(sessionmaker) as session:
        enterprise = session.scalars(select(tenants.Enterprise).where(tenants.Enterprise.code == code)).one()
        return tenants.quiet_settings(enterprise)


@pytest.fixture
def admin(db_url, sessionmaker):
    """admin(*args) -> (exit code, stdout, stderr) of `merp admin quiet-hours DEMO ...`."""
    with session_scope(sessionmaker) as session:
        seed_demo(session)

    def run(*args, code="DEMO"):
        out, err = io.StringIO(), io.StringIO()
        parsed = _parser().parse_args(["quiet-hours", code, "--url", db_url, *args])
        return parsed.func(parsed, out, err), out.getvalue().strip(), err.getvalue().strip()
    return run


def _parser():
    import argparse

    parser = argparse.ArgumentParser(prog="merp admin")
    admin_cli.add_admin_commands(parser.add_subparsers(dest="admin_command", required=True))
    return parser


def test_admin_shows_sets_and_clears(admin, sessionmaker):
    assert admin() == (0, "DEMO: the gateway's quiet hours, local time the gateway's UTC offset", "")
    assert admin("--start", "23:30", "--end", "6:00", "--utc-offset", "+07:00") == (
        0, "DEMO: quiet hours 23:30-06:00, local time UTC+07:00", "")
    assert stored(sessionmaker) == {"quiet_start": "23:30", "quiet_end": "06:00", "utc_offset": "+07:00"}
    assert admin("--off")[1] == "DEMO: no quiet hours, local time UTC+07:00"
    assert admin("--default", "--utc-offset", "default")[0] == 0
    assert stored(sessionmaker) == DEFAULT


@pytest.mark.parametrize("args, code, says", [
    (["--start", "24:00", "--end", "07:00"], 1, "'24:00' is not a time of day; write HH:MM"),
    (["--start", "22:00"], 1, "need both a start and an end"),
    (["--end", "07:00"], 2, "--end needs --start"),
    (["--utc-offset", "+8:20"], 1, "steps of 15 minutes, e.g. +08:00"),
])
def test_admin_refuses_bad_values_and_changes_nothing(admin, sessionmaker, args, code, says):
    exit_code, out, err = admin(*args)
    assert (exit_code, out) == (code, "") and says in err
    assert stored(sessionmaker) == DEFAULT


def test_admin_names_an_unknown_enterprise(admin):
    assert admin(code="NOPE") == (1, "", "merp admin: no enterprise 'NOPE'")


@pytest_twisted.ensureDeferred
async def test_the_api_shows_and_patches_the_quiet_hours(api):  # noqa: F811
    base, maker = api
    status, body, _ = await call(base, "GET", "/api/enterprises/DEMO")
    assert status == 200 and {k: body[k] for k in DEFAULT} == DEFAULT
    status, body, _ = await call(base, "PATCH", "/api/enterprises/DEMO",
                                 {"quiet_start": "21:00", "quiet_end": "07:30", "utc_offset": "+05:30"})
    assert status == 200 and (body["code"], body["quiet_start"], body["quiet_end"], body["utc_offset"]) == (
        "DEMO", "21:00", "07:30", "+05:30")
    status, body, _ = await call(base, "PATCH", "/api/enterprises/DEMO", {"utc_offset": None})
    assert status == 200 and (body["quiet_start"], body["utc_offset"]) == ("21:00", None)
    assert stored(maker) == {"quiet_start": "21:00", "quiet_end": "07:30", "utc_offset": None}


@pytest.mark.parametrize("patch, code, says", [
    ({"quiet_start": "9pm", "quiet_end": "07:00"}, "tenant.quiet_hours", "write HH:MM"),
    ({"quiet_start": "21:00"}, "tenant.quiet_hours", "both a start and an end"),
    ({"utc_offset": "+99"}, "tenant.quiet_hours", "from -12:00 to +14:00"),
    ({"utc_offset": 8}, "http.bad_field", "'utc_offset' must be text"),
    ({"name": "x"}, "http.bad_field", "cannot update name"),
])
@pytest_twisted.ensureDeferred
async def test_the_api_refuses_bad_values_with_400_and_changes_nothing(api, patch, code, says):  # noqa: F811
    base, maker = api
    status, body, _ = await call(base, "PATCH", "/api/enterprises/DEMO", patch)
    assert (status, body["error"]["code"]) == (400, code) and says in body["error"]["message"]
    assert stored(maker) == DEFAULT


@pytest_twisted.ensureDeferred
async def test_the_api_patch_of_an_unknown_enterprise_is_404(api):  # noqa: F811
    base, _ = api
    status, body, _ = await call(base, "PATCH", "/api/enterprises/NOPE", {"utc_offset": "+08:00"})
    assert status == 404
