"""The migrations build exactly the schema the models describe, on every backend.

Base.metadata is loaded through erpcore.models.load_all, so every model module (the
messaging models included, once present) is held to its migration."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, Table

from erpcore.models import load_all


def _diff(engine, metadata):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, metadata)


def test_migrations_match_the_models(engine):
    assert _diff(engine, load_all()) == []


def test_the_comparison_notices_a_table_missing_from_the_migrations(engine):
    """Guards the test above: a model the migrations lack must show up as a difference."""
    metadata = MetaData()
    for table in load_all().tables.values():
        table.to_metadata(metadata)
    Table("not_migrated", metadata, Column("id", Integer, primary_key=True))
    diff = _diff(engine, metadata)
    assert [entry[0] for entry in diff] == ["add_table"]
    assert diff[0][1].name == "not_migrated"


def test_every_core_model_is_loaded():
    assert {"enterprises", "sites", "users", "items", "stock_levels"} <= set(load_all().tables)
