"""Logging is set up once, by the console command, never inside factories.

Our modules log through the standard library; Twisted's own events are routed into it, so
one handler formats everything, as text or as JSON lines (structured logs).
"""
from __future__ import annotations

import json as jsonlib
import logging
import sys

from twisted.logger import STDLibLogObserver, globalLogBeginner


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return jsonlib.dumps(
            {
                "time": self.formatTime(record),
                "level": record.levelname.lower(),
                "logger": record.name,
                "message": record.getMessage(),
            },
            ensure_ascii=False,
        )


def setup_logging(level: str = "info", json: bool = False, stream=None) -> None:
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel({"warn": "WARNING"}.get(level, level.upper()))
    globalLogBeginner.beginLoggingTo([STDLibLogObserver()], redirectStandardIO=False)
