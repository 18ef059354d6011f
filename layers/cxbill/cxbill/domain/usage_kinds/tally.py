"""Tallies: a kind's rows grouped by what its charge rule looks at, with a count and the sums of
the fields it adds up (SPEC 11: 30,000,000 calls in a period are never 30,000,000 Python rows).

A kind that bills from totals declares a `TallySpec`: the instant field that places a row in a
period, the keys its rule distinguishes rows by (a field's value, or whether a field equals a
value, or is non-zero) and the fields it sums. Its charge rule then reads `Tally` groups instead
of rows. `TallySpec.of_rows` is the reference, in Python; a store may compute the same groups
where the rows are (adapters/columnar.py `tally`, in DuckDB SQL), which
tests/integration/test_close_sql.py checks against it on random rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple


@dataclass(frozen=True)
class Value:
    """The field's value itself (a key of few distinct values: a service, a country)."""

    field: str

    def of(self, row: Any) -> Any:
        return getattr(row, self.field)


@dataclass(frozen=True)
class Equals:
    """Whether the field equals `value`."""

    field: str
    value: Any

    def of(self, row: Any) -> bool:
        return getattr(row, self.field) == self.value


@dataclass(frozen=True)
class NonZero:
    """Whether the (numeric) field is not zero."""

    field: str

    def of(self, row: Any) -> bool:
        return getattr(row, self.field) != 0


Key = Value | Equals | NonZero


class Tally(NamedTuple):
    """The rows of one group: their key (one value per TallySpec key), number and sums."""

    key: tuple
    rows: int
    sums: tuple


@dataclass(frozen=True)
class TallySpec:
    within: str  # the instant field: a row counts in [start, end) when start <= it < end
    keys: tuple[Key, ...]
    sums: tuple[str, ...]  # integer or cost fields

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field a tally reads."""
        named = [self.within, *(k.field for k in self.keys), *self.sums]
        return tuple(dict.fromkeys(named))

    def of_rows(self, rows: Iterable[Any], start_ms: int, end_ms: int) -> list[Tally]:
        """The reference tally, in Python, reading the rows once (groups in first-seen order)."""
        groups: dict[tuple, list] = {}
        for row in rows:
            if not start_ms <= getattr(row, self.within) < end_ms:
                continue
            key = tuple(k.of(row) for k in self.keys)
            group = groups.get(key)
            if group is None:
                group = groups[key] = [0, *(0 for _ in self.sums)]
            group[0] += 1
            for i, name in enumerate(self.sums, 1):
                group[i] += getattr(row, name)
        return [Tally(key, g[0], tuple(g[1:])) for key, g in groups.items()]
