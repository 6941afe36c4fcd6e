"""Loads every model module so that Base.metadata describes the whole schema.

Alembic's env.py and the migrations-versus-models test both need all tables; importing
them from one place keeps that list in one file.
"""
from __future__ import annotations

import importlib
import importlib.util

from sqlalchemy import MetaData

from erpcore.base import Base

CORE_MODULES = (
    "erpcore.tenants",
    "erpcore.sites",
    "erpcore.users",
    "erpcore.items",
    "erpcore.stock",
    # people and platform (issue 3, migration 0003_people)
    "erpcore.audit",
    "erpcore.clouds",
    "erpcore.rbac",
    "erpcore.auth",
    "erpcore.services",
    # stock (issue 3, migration 0004_stock)
    "erpcore.movements",
    "erpcore.imei",
    # documents, alerts, tasks, sharing (issue 3, migration 0005_documents)
    "erpcore.partners",
    "erpcore.sequences",
    "erpcore.orders",
    "erpcore.approvals",
    "erpcore.notifications",
    "erpcore.alerts",
    "erpcore.tasks",
    "erpcore.sharing",
    # sync with enterprise servers (issue 7, migration 0006_sync)
    "sync.models",
)
# Modules written by other parts of the team; loaded when present. find_spec (rather than
# catching ImportError) lets a real import error inside such a module surface.
OPTIONAL_MODULES = ("erpcore.messaging_models",)


def load_all() -> MetaData:
    """Import every model module and return the shared metadata."""
    for name in CORE_MODULES:
        importlib.import_module(name)
    for name in OPTIONAL_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name)
    return Base.metadata
