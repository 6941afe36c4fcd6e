"""What is synced: a table spec (canonical fields, primary key, key fields, conflict rule)
and the two fingerprints every scan and digest is built on.

Canonical field names are shared by both sides; each side maps them onto its own columns
(`sync.source`). Row hashes are side-local (compared only with the same side's mirror), so
they hash the row tuple as the driver returned it, serialised by `marshal` (C, a fixed
format version, no back-references) — a full scan hashes every row, and this is a third of
what `repr` cost; digests cross sides and so hash a normalised text form instead.
"""
from __future__ import annotations

import enum
import hashlib
import marshal
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from itertools import repeat
from operator import methodcaller

PK_SEPARATOR = "\x1f"
INT_PK_WIDTH = 20  # zero-padded so text order follows numeric order where it can


class Rule(str, enum.Enum):
    """Who wins when both sides changed a row since the last sync."""

    ENTERPRISE_WINS = "enterprise_wins"
    CLUSTER_WINS = "cluster_wins"
    NEWER_WINS = "newer_wins"
    MANUAL = "manual"


class Role(str, enum.Enum):
    CLUSTER = "cluster"
    ENTERPRISE = "enterprise"


class SpecError(ValueError):
    """A table spec that cannot work; the message says why."""


@dataclass(frozen=True)
class TableSpec:
    """One synced table in canonical terms.

    ``fields`` lists every canonical field, primary key first; ``key_fields`` the subset a
    fast scan fingerprints (the fields that change most, e.g. quantity); ``pk_types`` "int"
    or "str" per primary-key field.
    """

    name: str
    pk: tuple[str, ...]
    fields: tuple[str, ...]
    key_fields: tuple[str, ...] = ()
    rule: Rule = Rule.ENTERPRISE_WINS
    pk_types: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        if not self.pk or not set(self.pk) <= set(self.fields):
            raise SpecError(f"table {self.name}: primary key {self.pk} must be among its fields")
        if tuple(self.fields[: len(self.pk)]) != tuple(self.pk):
            raise SpecError(f"table {self.name}: list the primary key fields first")
        if not set(self.key_fields) <= set(self.fields):
            raise SpecError(f"table {self.name}: key fields {self.key_fields} are not all fields")
        if not self.key_fields:
            object.__setattr__(self, "key_fields", self.fields)
        if not self.pk_types:
            object.__setattr__(self, "pk_types", ("str",) * len(self.pk))
        if len(self.pk_types) != len(self.pk) or set(self.pk_types) - {"int", "str"}:
            raise SpecError(f"table {self.name}: pk_types must be 'int' or 'str' per pk field")
        object.__setattr__(self, "rule", Rule(self.rule))

    @property
    def key_index(self) -> tuple[int, ...]:
        return tuple(self.fields.index(f) for f in self.key_fields)


def encode_pk(spec: TableSpec, values) -> str:
    """The mirror's text form of a primary key; integers zero-padded so that text order
    matches numeric order for non-negative keys."""
    parts = []
    for kind, value in zip(spec.pk_types, values):
        if kind == "int":
            number = int(value)
            parts.append(f"{number:0{INT_PK_WIDTH}d}" if number >= 0 else f"-{-number}")
        else:
            parts.append(str(value))
    return PK_SEPARATOR.join(parts)


def decode_pk(spec: TableSpec, text: str) -> tuple:
    parts = text.split(PK_SEPARATOR)
    if len(parts) != len(spec.pk):
        raise SpecError(f"table {spec.name}: bad key {text!r}")
    return tuple(int(p) if kind == "int" else p for kind, p in zip(spec.pk_types, parts))


MARSHAL_VERSION = 2  # version 2: no back-references, so equal values give equal bytes
_PLAIN = frozenset((str, int, float, bool, bytes, type(None)))
try:  # CPython's own MD5: half the instructions of OpenSSL's per call, the same digest
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover - a Python built without it
    _md5 = partial(hashlib.md5, usedforsecurity=False)
_hexdigest = methodcaller("hexdigest")


def _plain(values: tuple) -> tuple:
    """The row with values marshal cannot write (Decimal, datetime from MariaDB) as
    (type name, text) pairs: unambiguous, since no plain value is a tuple."""
    return tuple(v if type(v) in _PLAIN else (type(v).__name__, str(v)) for v in values)


def row_hash(values: tuple) -> str:
    """Side-local fingerprint of a row (not a security measure: it only tells a changed
    row from an unchanged one)."""
    values = tuple(values)
    try:
        data = marshal.dumps(values, MARSHAL_VERSION)
    except ValueError:
        data = marshal.dumps(_plain(values), MARSHAL_VERSION)
    return _md5(data).hexdigest()


def row_hashes(rows) -> list[str]:
    """`row_hash` of each tuple in ``rows``, the common case run entirely in C."""
    rows = rows if isinstance(rows, list) else list(rows)
    try:
        return list(map(_hexdigest, map(_md5, map(marshal.dumps, rows,
                                                  repeat(MARSHAL_VERSION)))))
    except ValueError:  # a value marshal cannot write: this chunk row by row
        return list(map(row_hash, rows))


def normal_text(value) -> str:
    """The text both sides agree on for one value, whatever their column types."""
    if value is None:
        return "\x00"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, Decimal, float)):
        number = Decimal(str(value)).normalize()
        return format(number, "f")
    if isinstance(value, str):
        return value
    return str(value)


def portable_hash(values) -> int:
    """Cross-side fingerprint of a row (normalised text), as an int for order-free sums."""
    text = PK_SEPARATOR.join(normal_text(v) for v in values)
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big")


def to_json_value(value):
    """A value as JSON carries it: Decimal as text (exact), datetimes as ISO text."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
