"""SMPP delivery-receipt text (SMPP 3.4 appendix B), written and read.

The format is only "vendor specific" on paper: every SMS centre sends a variant of the
appendix B example, so the reader is lenient about case, missing fields and id bases.
"""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache

RECEIPT_TEXT_LENGTH = 20  # appendix B: the first 20 characters of the original message

_TEXT_LABEL = re.compile(r"(?:^|\s)text:", re.IGNORECASE)
_FIELDS = {
    "id": re.compile(r"(?:^|\s)id:\s*(\S*)", re.IGNORECASE),
    "sub": re.compile(r"(?:^|\s)sub:\s*(\S*)", re.IGNORECASE),
    "dlvrd": re.compile(r"(?:^|\s)dlvrd:\s*(\S*)", re.IGNORECASE),
    "submit_date": re.compile(r"(?:^|\s)submit[\s_]?date:\s*(\S*)", re.IGNORECASE),
    "done_date": re.compile(r"(?:^|\s)done[\s_]?date:\s*(\S*)", re.IGNORECASE),
    "stat": re.compile(r"(?:^|\s)stat:\s*(\S*)", re.IGNORECASE),
    "err": re.compile(r"(?:^|\s)err:\s*(\S*)", re.IGNORECASE),
}

#: The appendix B layout exactly as SMS centres (and the simulator) write it, fields in
#: _FIELDS' order. Each value is a run of non-blanks up to one blank, so it is what each
#: field's own search finds; one anchored match instead of seven scans of the text (the
#: searches cost ~50 us a receipt, one per command). Anything else takes the searches.
_CANONICAL = re.compile(
    r"id:(\S+) sub:(\S+) dlvrd:(\S+) submit date:(\S+) done date:(\S+) stat:(\S+) err:(\S+) text:",
    re.IGNORECASE,
)


def _count(value: int | str) -> str:
    if value.__class__ is int and 0 <= value < len(_COUNTS):
        return _COUNTS[value]
    return f"{value:03d}" if isinstance(value, int) else str(value)


_COUNTS = tuple(f"{n:03d}" for n in range(10))


@lru_cache(maxsize=64)  # receipts sent within a minute share their dates
def _date(value: datetime) -> str:
    return value.strftime("%y%m%d%H%M")


def format_receipt(
    id: str,
    sub: int | str,
    dlvrd: int | str,
    submit_date: datetime,
    done_date: datetime,
    stat: str,
    err: int | str,
    text: str,
) -> str:
    """The appendix B receipt text; counts as 3 digits, text cut to 20 characters."""
    return (
        f"id:{id} sub:{_count(sub)} dlvrd:{_count(dlvrd)} "
        f"submit date:{_date(submit_date)} done date:{_date(done_date)} "
        f"stat:{stat} err:{_count(err)} Text:{text[:RECEIPT_TEXT_LENGTH]}"
    )


@lru_cache(maxsize=256)  # a centre's receipts share their minutes; datetimes are immutable
def _parse_date(value: str | None) -> datetime | None:
    """YYMMDDhhmm, or YYMMDDhhmmss as some centres send; None when absent or invalid.

    The two-digit year is 20YY: receipts are about messages sent this century, and
    strptime's %y would put 69..99 in the 1900s.
    """
    if not value or not value.isdigit() or len(value) not in (10, 12):
        return None
    fields = [int(value[i : i + 2]) for i in range(0, len(value), 2)]
    try:
        return datetime(2000 + fields[0], *fields[1:])
    except ValueError:
        return None


def parse_receipt(text: str | bytes) -> dict | None:
    """Read receipt text into a dict, or None when it is not a receipt.

    Keys: id (as given), sub, dlvrd, err (strings as given), submit_date, done_date
    (datetime), stat (upper case), text. A missing field is None; "id:" and "stat:" are
    required, since without them a receipt cannot be matched or acted on.
    """
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("latin-1")
    if not isinstance(text, str):
        return None
    canonical = _CANONICAL.match(text)
    if canonical is not None:  # the appendix B layout: every field found in one match
        values = dict(zip(_FIELDS, canonical.groups()))
        label_end = canonical.end()
    else:
        label = _TEXT_LABEL.search(text)
        label_end = label.end() if label else None
        head = text[: label.start()] if label else text
        values = {}
        for key, pattern in _FIELDS.items():
            match = pattern.search(head)
            values[key] = match.group(1) if match else None
    if not values["id"] or not values["stat"]:
        return None
    values["stat"] = values["stat"].upper()
    values["submit_date"] = _parse_date(values["submit_date"])
    values["done_date"] = _parse_date(values["done_date"])
    values["text"] = text[label_end:].strip() if label_end is not None else None
    return values
