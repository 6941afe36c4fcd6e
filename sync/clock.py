"""Wall-clock helpers for the sync tables (naive UTC, as erpcore stores times)."""
from __future__ import annotations

import time
from datetime import datetime, timezone


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def now_ms() -> int:
    return int(time.time() * 1000)
