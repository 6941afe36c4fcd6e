"""One UPDATE that gives each of many rows its own value:
``SET column = CASE key WHEN :k0 THEN :v0 ... END WHERE key IN (...)``.

Why a module: built afresh for each batch, such a statement has a new shape for every
number of rows, so SQLAlchemy compiles it every time (~3 ms for 90 rows on this box) and
its compiled cache fills with one-off entries that the garbage collector then walks.
Padded up to one of a few sizes (a repeated WHEN changes nothing), a handful of shapes
serve every batch and stay compiled. The rows are taken in key order, so that two
transactions updating some of the same rows lock them in the same order.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import bindparam, case
from sqlalchemy.sql.expression import ColumnElement

#: The sizes a statement is padded up to; a larger batch is sent in chunks of the last.
BUCKETS = (4, 16, 64, 256)


class KeyedUpdate:
    """``build(case_expression)`` makes the UPDATE (its SET clauses, other conditions,
    RETURNING); the key's IN condition is added here. Other parameters the statement
    names are passed to `statements`."""

    def __init__(self, key: ColumnElement, build: Callable[[ColumnElement], Any]):
        self._key = key
        self._build = build
        self._shapes: dict[int, Any] = {}

    def statements(self, values: Mapping[Any, Any], **params: Any) -> Iterator[tuple[Any, dict]]:
        """(statement, parameters) pairs that together set ``values`` (key -> value)."""
        rows = sorted(values.items())
        largest = BUCKETS[-1]
        for start in range(0, len(rows), largest):
            chunk = rows[start:start + largest]
            size = next(b for b in BUCKETS if b >= len(chunk))
            padded = chunk + [chunk[-1]] * (size - len(chunk))
            bound = {"keys": [key for key, _ in chunk], **params}
            for n, (key, value) in enumerate(padded):
                bound[f"k{n}"] = key
                bound[f"v{n}"] = value
            yield self._shape(size), bound

    def _shape(self, size: int):
        statement = self._shapes.get(size)
        if statement is None:
            chosen = case(*((bindparam(f"k{n}"), bindparam(f"v{n}")) for n in range(size)), value=self._key)
            statement = self._build(chosen).where(self._key.in_(bindparam("keys", expanding=True)))
            self._shapes[size] = statement
        return statement
