"""Quiet hours: a daily window of an enterprise's local time during which its non-urgent
notifications (alerts, approval requests, decisions) wait; urgent ones (task assignments)
still go at once.

The gateway has a default window and UTC offset (``[notify]``); an enterprise may set its
own window, its own offset, or both (erpcore.tenants.set_quiet_hours / set_utc_offset;
an unset value falls back to the gateway's). This module is pure: the window, and the
strict parsing of what an operator types (``22:00``, ``+08:00``), with errors that say
what to write instead.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from erpcore.errors import InvalidInput

DEFAULT_START, DEFAULT_END = time(22, 0), time(8, 0)
DEFAULT_UTC_OFFSET_HOURS = 8.0
#: Offsets in use on Earth run from UTC-12:00 to UTC+14:00, in steps of 15 minutes.
MIN_OFFSET_MINUTES, MAX_OFFSET_MINUTES = -12 * 60, 14 * 60

_TIME = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")
_OFFSET = re.compile(r"([+-])?(\d{1,2})(?::?([0-5]\d))?")


class InvalidQuietHours(InvalidInput):
    code = "tenant.quiet_hours"


@dataclass(frozen=True)
class QuietHours:
    """A daily window in local time (``start`` > ``end`` spans midnight); equal = none."""

    start: time = DEFAULT_START
    end: time = DEFAULT_END
    utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS

    @classmethod
    def parse(cls, start: str, end: str, utc_offset_hours: float = DEFAULT_UTC_OFFSET_HOURS) -> QuietHours:
        """From ``"22:00"``-style texts; ValueError when one is not a time of day."""
        return cls(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()), utc_offset_hours)

    def overridden(self, start: str | None, end: str | None, utc_offset_minutes: int | None) -> QuietHours:
        """This window with an enterprise's own settings (None: keep this one's)."""
        own_window = start is not None and end is not None
        return QuietHours(
            parse_time_of_day(start) if own_window else self.start,
            parse_time_of_day(end) if own_window else self.end,
            utc_offset_minutes / 60 if utc_offset_minutes is not None else self.utc_offset_hours,
        )

    @property
    def empty(self) -> bool:
        return self.start == self.end

    def local(self, utc_now: datetime) -> datetime:
        return utc_now + timedelta(hours=self.utc_offset_hours)

    def active(self, utc_now: datetime) -> bool:
        if self.empty:
            return False
        local = self.local(utc_now).time()
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def parse_time_of_day(text: str) -> time:
    """``"07:30"`` (or ``"7:30"``) -> 07:30; anything but a 24-hour HH:MM is refused with
    a clear error."""
    match = _TIME.fullmatch(str(text).strip()) if text is not None else None
    if match is None:
        raise InvalidQuietHours(
            f"quiet hours: {text!r} is not a time of day; write HH:MM from 00:00 to 23:59, e.g. 22:00",
            value=str(text),
        )
    return time(int(match.group(1)), int(match.group(2)))


def check_window(start: str | None, end: str | None) -> tuple[str, str] | None:
    """The window as stored (``("22:00", "08:00")``), None for "the gateway's default".
    Both ends or neither: half a window means nothing."""
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise InvalidQuietHours("quiet hours need both a start and an end (HH:MM), or neither "
                                "for the gateway's default")
    return parse_time_of_day(start).strftime("%H:%M"), parse_time_of_day(end).strftime("%H:%M")


def parse_utc_offset(text: str) -> int:
    """``"+08:00"``, ``"+8"``, ``"-0330"``, ``"5:45"`` -> minutes east of UTC."""
    match = _OFFSET.fullmatch(str(text).strip()) if text is not None else None
    minutes = None
    if match is not None:
        minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
        minutes = -minutes if match.group(1) == "-" else minutes
    if minutes is None or not MIN_OFFSET_MINUTES <= minutes <= MAX_OFFSET_MINUTES or minutes % 15:
        raise InvalidQuietHours(
            f"UTC offset {text!r} is not valid; write hours east of UTC from -12:00 to +14:00 in "
            "steps of 15 minutes, e.g. +08:00 or -03:30",
            value=str(text),
        )
    return minutes


def format_utc_offset(minutes: int) -> str:
    """480 -> ``"+08:00"``, -210 -> ``"-03:30"``."""
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}:{rest:02d}"
