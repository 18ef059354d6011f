"""Field checks shared by the usage kinds: each returns the value normalized or raises RowError
naming the column, so a rejection report points at the cell (R-ingest-1)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ..instants import InvalidTimestamp, date_ms, parse_instant
from ..problems import RowError

OPEN_END = 2**62  # an assignment, device or number not yet ended

_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# A plain decimal: no sign, no exponent, digits on both sides of a point. The bounds keep sums
# and products of a period inside Decimal's 28 digits, so rating never rounds or overflows.
_QUANTITY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")
_COUNT = re.compile(r"[0-9]{1,9}")  # a whole number of seconds (up to ~31 years)
_E164 = re.compile(r"\+[0-9]{8,15}")


def instant(column: str, value: str) -> int:
    try:
        return parse_instant(value)
    except InvalidTimestamp as e:
        raise RowError(column, value, str(e)) from e


def required(column: str, value: str) -> str:
    if not value:
        raise RowError(column, value, f"{column} is required")
    return value


def day(column: str, value: str) -> int:
    m = _DATE.fullmatch(value)
    try:
        if not m:
            raise ValueError
        return date_ms(date(int(m[1]), int(m[2]), int(m[3])))
    except ValueError as e:
        raise RowError(column, value, f"{column} must be a date YYYY-MM-DD: {value!r}") from e


def choice(column: str, value: str, allowed: tuple[str, ...] | frozenset[str]) -> str:
    if value not in allowed:
        raise RowError(column, value, f"{column} must be one of {', '.join(sorted(allowed))}")
    return value


def quantity(column: str, value: str) -> Decimal:
    if not _QUANTITY.fullmatch(value):
        raise RowError(
            column,
            value,
            f"{column} must be a plain decimal >= 0 like 12 or 3.5 "
            "(at most 12 digits before the point and 9 after)",
        )
    return Decimal(value)


def seconds(column: str, value: str) -> int:
    if not _COUNT.fullmatch(value):
        raise RowError(column, value, f"{column} must be a whole number >= 0 (at most 9 digits)")
    return int(value)


def e164(column: str, value: str) -> str:
    if not _E164.fullmatch(value):
        raise RowError(column, value, f"{column} must be E.164: + then 8 to 15 digits")
    return value


def span(start_col: str, start: str, end_col: str, end: str) -> tuple[int, int]:
    """[start, end) of a row; an empty end is OPEN_END (still going)."""
    start_ms = instant(start_col, start)
    end_ms = instant(end_col, end) if end else OPEN_END
    if end_ms < start_ms:
        raise RowError(end_col, end, f"{end_col} is before {start_col}")
    return start_ms, end_ms
