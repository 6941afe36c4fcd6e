"""What is synced: a table spec (canonical fields, primary key, key fields, conflict rule)
and the two fingerprints every scan and digest is built on.

Canonical field names are shared by both sides; each side maps them onto its own columns
(`sync.source`). Row hashes are side-local (compared only with the same side's mirror), so
they hash Python's C-level `repr` of the row tuple; digests cross sides and so hash a
normalised text form instead.
"""
from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

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


def row_hash(values: tuple, _md5=hashlib.md5) -> str:
    """Side-local fingerprint of a row: repr of the tuple and MD5 both run in C (not a
    security measure: it only tells a changed row from an unchanged one)."""
    return _md5(repr(values).encode(), usedforsecurity=False).hexdigest()


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
