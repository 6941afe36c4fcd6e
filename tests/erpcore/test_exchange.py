"""`merp admin` import/export: a round trip changes nothing, a bad file changes nothing."""
from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from erpcore import exchange
from erpcore.db import session_scope
from erpcore.exchange import ExchangeFileInvalid
from erpcore.items import Item
from erpcore.users import User
from gateway import admin_cli
from tests.erpcore.stock_helpers import level, site, tenant


def dump(session, kind, fmt="csv", enterprise=None) -> str:
    out = io.StringIO()
    exchange.write(exchange.export_rows(session, kind, enterprise), kind, fmt, out)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("kind", ["enterprises", "users", "items", "stock"])
def test_importing_an_export_changes_nothing(session, kind, fmt):
    text = dump(session, kind, fmt)
    result = exchange.import_rows(session, kind, exchange.read(text, kind, fmt))
    assert (result.created, result.updated) == (0, 0) and result.unchanged > 0
    assert dump(session, kind, fmt) == text


def test_an_import_creates_and_updates_by_natural_key_and_is_idempotent(session):
    demo = tenant(session, "DEMO")
    text = ("enterprise,sku,name,tac,unit_price,serialised\n"
            "DEMO,X100,华为Mate X100 新,86123456,4888,0\n"
            "DEMO,P50,华为P50,86999999,5999.00,yes\n")
    rows = exchange.read(text, "items", "csv")
    assert exchange.import_rows(session, "items", rows) == exchange.ImportResult(1, 1, 0)
    assert exchange.import_rows(session, "items", rows) == exchange.ImportResult(0, 0, 2)
    p50 = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "P50")).one()
    assert p50.serialised and str(p50.unit_price) == "5999.00"


def test_stock_is_set_through_balanced_adjustments(session):
    demo = tenant(session, "DEMO")
    x100 = session.scalars(select(Item).where(Item.enterprise_id == demo.id, Item.sku == "X100")).one()
    rows = exchange.read("enterprise,site,sku,quantity\nDEMO,HALL1,X100,20\nDEMO,HALL2,X100,0\n", "stock", "csv")
    assert exchange.import_rows(session, "stock", rows) == exchange.ImportResult(0, 1, 1)
    assert level(session, x100.id, site(session, demo.id, "HALL1").id) == 20


def test_a_bad_file_is_refused_with_line_numbers_and_nothing_changed(session):
    text = ("enterprise,username,display_name,msisdn,role,site\n"
            "DEMO,li,李四,13800000009,clerk,HALL1\n"
            "DEMO,bad,坏,abc,clerk,\n"
            "DEMO,zhao,赵,,emperor,\n"
            "DEMO,qian,钱,,clerk,MARS\n"
            "NOBODY,sun,孙,,,\n"
            "DEMO,li,又李四,,,\n"
            "DEMO,zhou,周,13800000001,,\n")
    with pytest.raises(ExchangeFileInvalid) as caught:
        exchange.import_rows(session, "users", exchange.read(text, "users", "csv"))
    assert [line for line, _ in caught.value.errors] == [3, 4, 5, 6, 7, 8]
    assert session.scalars(select(User).where(User.username == "li")).first() is None


def test_an_enterprise_scoped_import_refuses_another_tenants_rows(session):
    text = "enterprise,sku,name\nOTHER,X100,hijacked\n"
    with pytest.raises(ExchangeFileInvalid) as caught:
        exchange.import_rows(session, "items", exchange.read(text, "items", "csv"), enterprise_code="DEMO")
    assert caught.value.errors == [(2, "enterprise 'OTHER' is outside --enterprise DEMO")]
    other = tenant(session, "OTHER")
    assert session.scalars(select(Item.name).where(Item.enterprise_id == other.id, Item.sku == "X100")).one() == "别家X100"


def test_an_enterprise_scoped_export_shows_only_that_tenant(session):
    rows = exchange.export_rows(session, "stock", "OTHER")
    assert {r["enterprise"] for r in rows} == {"OTHER"} and len(rows) == 3
    users = json.loads(dump(session, "users", "json", "DEMO"))
    assert {u["enterprise"] for u in users} == {"DEMO"}


def test_the_admin_commands_export_and_reimport_through_files(seeded, engine, tmp_path, capsys):
    url = engine.url.render_as_string(hide_password=False)
    target = tmp_path / "items.json"
    assert admin_cli.main(["export", "items", "--url", url, "--enterprise", "DEMO", "--format", "json",
                           "-o", str(target)]) == 0
    assert {r["sku"] for r in json.loads(target.read_text())} >= {"X100", "CHG1"}
    assert admin_cli.main(["import", "items", str(target), "--url", url]) == 0
    assert "0 created, 0 updated" in capsys.readouterr().out
    bad = tmp_path / "items.csv"
    bad.write_text("enterprise,sku,name,unit_price\nDEMO,X100,ok,1\nDEMO,Y1,,x\n", encoding="utf-8")
    assert admin_cli.main(["import", "items", str(bad), "--url", url]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: unit_price 'x' is not a number" in err and "nothing imported" in err
    with session_scope(seeded) as session:
        assert session.scalars(select(Item).where(Item.name == "ok")).first() is None
