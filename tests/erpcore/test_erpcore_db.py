"""erpcore.db: engines tuned per backend, sessions, unit-of-work scope, upgrades."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from erpcore import db
from erpcore.tenants import Enterprise


def test_sqlite_connections_have_wal_foreign_keys_and_busy_timeout(tmp_path):
    engine = db.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == db.SQLITE_BUSY_TIMEOUT_MS
    engine.dispose()


def test_mysql_urls_get_utf8mb4_and_pre_ping():
    engine = db.make_engine("mysql+pymysql://u@127.0.0.1:1/x")  # no connection is made
    assert engine.url.query["charset"] == "utf8mb4"
    assert engine.pool._pre_ping is True


def test_an_explicit_mysql_charset_is_kept():
    engine = db.make_engine("mysql+pymysql://u@127.0.0.1:1/x?charset=utf8")
    assert engine.url.query["charset"] == "utf8"


def test_mysql_isolation_is_read_committed_on_the_server(engine):
    if engine.dialect.name != "mysql":
        pytest.skip("MariaDB only")
    with engine.connect() as conn:
        assert "READ-COMMITTED" in conn.execute(text("SELECT @@tx_isolation")).scalar()


def test_upgrade_creates_the_core_tables_and_is_repeatable(empty_db_url):
    db_url = empty_db_url
    db.upgrade(db_url)
    db.upgrade(db_url)  # already at head: nothing to do, no error
    engine = db.make_engine(db_url)
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"enterprises", "sites", "users", "items", "stock_levels", "alembic_version"} <= names


def test_objects_stay_readable_after_commit(sessionmaker):
    session = sessionmaker()
    enterprise = Enterprise(code="E1", name="e", extension="91")
    session.add(enterprise)
    session.commit()
    session.close()
    assert enterprise.code == "E1"  # no DetachedInstanceError: expire_on_commit=False


def test_session_scope_commits_on_success_and_rolls_back_on_error(sessionmaker):
    with db.session_scope(sessionmaker) as session:
        session.add(Enterprise(code="KEEP", name="k", extension="81"))
    with pytest.raises(RuntimeError):
        with db.session_scope(sessionmaker) as session:
            session.add(Enterprise(code="DROP", name="d", extension="82"))
            session.flush()
            raise RuntimeError("boom")
    with db.session_scope(sessionmaker) as session:
        codes = set(session.scalars(select(Enterprise.code)))
    assert codes == {"KEEP"}


def test_foreign_keys_are_enforced(sessionmaker):
    from sqlalchemy.exc import IntegrityError

    from erpcore.sites import Site

    with pytest.raises(IntegrityError):
        with db.session_scope(sessionmaker) as session:
            session.add(Site(enterprise_id=12345, code="S", name="s", kind="hall"))
