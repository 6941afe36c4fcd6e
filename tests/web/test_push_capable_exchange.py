"""`merp admin export|import users` carries the push-capable flag (issue 6 point 5's WAP
Push needs it set by something other than tests): a column, no when absent, and a file
without the column leaves the flags of existing users alone."""
from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select, update

from erpcore import exchange
from erpcore.db import session_scope
from erpcore.exchange import ExchangeFileInvalid
from erpcore.users import User
from gateway import admin_cli


def flags(sessionmaker) -> dict[str, bool]:
    with session_scope(sessionmaker) as s:
        return dict(s.execute(select(User.username, User.push_capable)).all())


def import_csv(sessionmaker, text: str) -> exchange.ImportResult:
    with session_scope(sessionmaker) as s:
        return exchange.import_rows(s, "users", exchange.read(text, "users", "csv"))


def test_the_export_has_a_push_capable_column(sessionmaker, world):
    with session_scope(sessionmaker) as s:
        s.execute(update(User).where(User.id == world.users["smith"]).values(push_capable=True))
    with session_scope(sessionmaker) as s:
        out = io.StringIO()
        exchange.write(exchange.export_rows(s, "users", "DEMO"), "users", "csv", out)
    rows = {r["username"]: r for r in csv.DictReader(io.StringIO(out.getvalue()))}
    assert out.getvalue().splitlines()[0].endswith(",active,push_capable")
    assert (rows["smith"]["push_capable"], rows["zhang"]["push_capable"]) == ("1", "0")


def test_an_import_sets_the_flag_and_defaults_it_to_no(sessionmaker, world):
    result = import_csv(sessionmaker, "enterprise,username,display_name,push_capable\n"
                                      "DEMO,li,李四,yes\nDEMO,wu,吴,\nDEMO,smith,John Smith,1\n")
    assert (result.created, result.updated) == (2, 1)
    got = flags(sessionmaker)
    assert (got["li"], got["wu"], got["smith"]) == (True, False, True)


def test_a_file_without_the_column_leaves_existing_flags_alone(sessionmaker, world):
    with session_scope(sessionmaker) as s:
        s.execute(update(User).where(User.id == world.users["smith"]).values(push_capable=True))
    result = import_csv(sessionmaker, "enterprise,username,display_name\nDEMO,smith,John Smith\nDEMO,li,李四\n")
    assert result.created == 1
    got = flags(sessionmaker)
    assert (got["smith"], got["li"]) == (True, False)


def test_a_bad_flag_refuses_the_whole_file(sessionmaker, world):
    with pytest.raises(ExchangeFileInvalid) as caught:
        import_csv(sessionmaker, "enterprise,username,display_name,push_capable\n"
                                 "DEMO,li,李四,1\nDEMO,smith,John Smith,maybe\n")
    assert caught.value.errors == [(3, "push_capable 'maybe' is not yes/no")]
    assert "li" not in flags(sessionmaker)


def test_the_admin_command_round_trips_the_flag_through_a_file(sessionmaker, world, engine, tmp_path, capsys):
    url = engine.url.render_as_string(hide_password=False)
    source = tmp_path / "users.json"
    source.write_text('[{"enterprise": "DEMO", "username": "li", "display_name": "李四", "push_capable": true}]',
                      encoding="utf-8")
    assert admin_cli.main(["import", "users", str(source), "--url", url]) == 0
    assert "1 created" in capsys.readouterr().out
    target = tmp_path / "out.csv"
    assert admin_cli.main(["export", "users", "--url", url, "--enterprise", "DEMO", "-o", str(target)]) == 0
    rows = {r["username"]: r["push_capable"] for r in csv.DictReader(target.open(encoding="utf-8"))}
    assert rows["li"] == "1" and rows["zhang"] == "0"
