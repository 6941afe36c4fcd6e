"""Logging is set up once, by the console command, never inside factories."""
from __future__ import annotations

import sys

from twisted.logger import (
    FilteringLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    globalLogBeginner,
    jsonFileLogObserver,
    textFileLogObserver,
)

_LEVELS = {
    "debug": LogLevel.debug,
    "info": LogLevel.info,
    "warn": LogLevel.warn,
    "error": LogLevel.error,
}


def setup_logging(level: str = "info", json: bool = False, stream=None) -> None:
    """Send Twisted's structured log events to `stream` (stderr), as text or JSON lines."""
    stream = stream or sys.stderr
    observer = jsonFileLogObserver(stream) if json else textFileLogObserver(stream)
    predicate = LogLevelFilterPredicate(defaultLogLevel=_LEVELS.get(level, LogLevel.info))
    globalLogBeginner.beginLoggingTo(
        [FilteringLogObserver(observer, [predicate])], redirectStandardIO=False
    )
