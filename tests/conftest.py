"""Shared fixtures: every database test runs on SQLite and, when MERP_TEST_MYSQL_URL is
set (CI sets it when MariaDB answers), on MariaDB too."""
from __future__ import annotations

import os

import pytest

MYSQL_URL_ENV = "MERP_TEST_MYSQL_URL"


def _reset_mysql(url: str) -> None:
    """Drop every table in the scratch database so each test starts from migrations."""
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET FOREIGN_KEY_CHECKS=0"))
        for name in inspect(conn).get_table_names():
            conn.execute(text(f"DROP TABLE `{name}`"))
        conn.execute(text("SET FOREIGN_KEY_CHECKS=1"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "mysql"])
def db_url(request, tmp_path):
    """A URL of an empty database: a fresh SQLite file, or the emptied MariaDB scratch DB."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'merp.db'}"
    url = os.environ.get(MYSQL_URL_ENV)
    if not url:
        pytest.skip(f"{MYSQL_URL_ENV} not set")
    _reset_mysql(url)
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
