"""Engines, sessions and schema upgrades for both supported databases.

SQLite is the embedded default (one process); MySQL/MariaDB is for production, where
several gateway processes share one database. The differences are settled here so the
rest of erpcore writes plain SQLAlchemy.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
MYSQL_BACKENDS = ("mysql", "mariadb")


def make_engine(url: str, **kw) -> Engine:
    """An engine tuned for its backend; extra keyword arguments go to create_engine.

    Statement parameters are left out of error messages (``hide_parameters``): they hold
    MO texts — a SERVICE request's password among them — and phone numbers, and the
    pipeline logs the messages of failed writes."""
    kw.setdefault("hide_parameters", True)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed, **kw)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend in MYSQL_BACKENDS:
        if "charset" not in parsed.query:
            parsed = parsed.update_query_dict({"charset": "utf8mb4"})
        kw.setdefault("pool_pre_ping", True)
        kw.setdefault("pool_recycle", 3600)
        # READ COMMITTED: row claims (SKIP LOCKED) and short transactions without the
        # gap locks REPEATABLE READ takes.
        kw.setdefault("isolation_level", "READ COMMITTED")
        return create_engine(parsed, **kw)
    return create_engine(parsed, **kw)


def _sqlite_pragmas(dbapi_connection, _connection_record) -> None:
    """WAL lets readers run beside the writer; foreign keys are off by default in SQLite."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (we return plain data from threads)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def session_scope(maker: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit when the block ends, roll back if it raises."""
    session = maker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def transaction_lost(error: BaseException) -> bool:
    """Whether the database gave up the whole transaction (a deadlock victim, a lock
    wait timeout, a lost connection: MySQL/MariaDB roll back, and the savepoints go with
    it), so that nothing more can run in it. Code that catches a failure to try another
    way (a batch one by one, a group each alone) must let this one through: what it ran
    afterwards would run outside the transaction it thinks it is in."""
    return isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated)


def first_database_error(error: BaseException) -> BaseException:
    """The database error a failure began with. A deadlock victim's savepoints are gone
    with its transaction, so leaving the savepoint fails too ("SAVEPOINT sa_savepoint_1
    does not exist"), and that error, raised while the deadlock was handled, is the one
    that arrives; the deadlock is the one to report."""
    first, seen = error, set()
    earlier = error.__context__
    while earlier is not None and id(earlier) not in seen:
        seen.add(id(earlier))
        if isinstance(earlier, DBAPIError):
            first = earlier
        earlier = earlier.__context__
    return first


def alembic_config(url: str):
    """An alembic Config built in code, so no alembic.ini is needed anywhere."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation treats % specially (URL-encoded passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "heads") -> None:
    """Bring the database at ``url`` to ``revision`` (the newest schema by default; "heads"
    so that branches developed side by side apply before they are merged)."""
    from alembic import command

    config = alembic_config(url)
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def describe(url: str) -> str:
    """The URL as it is safe to print: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)
