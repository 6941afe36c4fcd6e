"""Fixtures for pipeline tests: a clock at a realistic time and row readers."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from twisted.internet.task import Clock

from tests.pipeline.pipeline_fakes import START


@pytest.fixture
def clock():
    c = Clock()
    c.advance(START)
    return c


@pytest.fixture
def now():
    return datetime.fromtimestamp(START, timezone.utc).replace(tzinfo=None)


@pytest.fixture
def rows(sessionmaker):
    """rows(Model, **filters) -> list of row mappings, read in a fresh transaction."""

    def read(model, **filters):
        table = model.__table__
        query = select(table).order_by(*table.primary_key.columns)
        for name, value in filters.items():
            query = query.where(table.c[name] == value)
        with sessionmaker() as session:
            return [r._asdict() for r in session.execute(query)]

    return read


@pytest.fixture
def later(now):
    return lambda seconds: now + timedelta(seconds=seconds)
