"""Shared fixtures: every database test runs on SQLite and, when MERP_TEST_MYSQL_URL is
set (CI sets it when MariaDB answers), on MariaDB too.

Migrating ~60 tables for every test costs seconds on MariaDB, so the schema is migrated
once per run: SQLite tests get a copy of a migrated template file, MariaDB tests the one
scratch database with every row deleted. `empty_db_url` gives a database with no tables
at all, for the tests of the migrations themselves.
"""
from __future__ import annotations

import os
import shutil

import pytest

MYSQL_URL_ENV = "MERP_TEST_MYSQL_URL"
_mysql_state = {"migrated": False}


def _mysql_url() -> str:
    url = os.environ.get(MYSQL_URL_ENV)
    if not url:
        pytest.skip(f"{MYSQL_URL_ENV} not set")
    return url


def _drop_mysql_tables(url: str) -> None:
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name in inspect(conn).get_table_names():
            conn.execute(text(f"DROP TABLE `{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


def _empty_mysql_rows(url: str) -> None:
    """Delete every row (the schema stays) and restart the ids that moved, so each test
    sees a fresh database at a fraction of the cost of migrating again."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        names = conn.execute(text(
            "SELECT table_name, auto_increment FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'"
        )).all()
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name, auto_increment in names:
            if name == "alembic_version":
                continue
            conn.execute(text(f"DELETE FROM `{name}`"))
            if auto_increment and auto_increment > 1:
                conn.execute(text(f"ALTER TABLE `{name}` AUTO_INCREMENT = 1"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory):
    from erpcore import db

    path = tmp_path_factory.mktemp("template") / "merp.db"
    url = f"sqlite:///{path}"
    db.upgrade(url)
    engine = db.make_engine(url)
    with engine.connect() as conn:  # fold the WAL into the file so a copy is complete
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "mysql"])
def db_url(request, tmp_path):
    """A URL of a migrated database with no rows: a fresh SQLite file, or the emptied
    MariaDB scratch database."""
    if request.param == "sqlite":
        path = tmp_path / "merp.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url = _mysql_url()
    if not _mysql_state["migrated"]:
        from erpcore import db

        _drop_mysql_tables(url)
        db.upgrade(url)
        _mysql_state["migrated"] = True
    else:
        _empty_mysql_rows(url)
    return url


@pytest.fixture(params=["sqlite", "mysql"])
def empty_db_url(request, tmp_path):
    """A URL of a database with no tables at all (for tests of the migrations)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    url = _mysql_url()
    _drop_mysql_tables(url)
    _mysql_state["migrated"] = False  # the next db_url migrates again
    return url


@pytest.fixture
def engine(db_url):
    """An engine on a database migrated to the newest schema."""
    from erpcore import db

    db.upgrade(db_url)
    eng = db.make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def sessionmaker(engine):
    from erpcore import db

    return db.make_sessionmaker(engine)
