"""Telco rate decks and call pricing (4.2.6, R-deck-1, R-call-1).

A deck maps number prefixes to a rate; a call is rated by the longest prefix of the number that
decides its price: the destination of an outbound call, the origin of an inbound one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import IO, Any, NamedTuple

from .money import RATE_PLACES
from .problems import RowError
from .usage import FileSummary, Price, read_csv

DECK_HEADER = "prefix,country,service,rate_per_minute,min_s,increment_s"
# Which services each deck file may hold (outbound.csv, inbound.csv).
DECK_SERVICES: dict[str, tuple[str, ...]] = {
    "outbound": ("outbound", "extended_outbound"),
    "inbound": ("inbound",),
}
MAX_PREFIX_DIGITS = 15  # an E.164 number has at most 15 digits: a longer prefix matches nothing

_PREFIX = re.compile(rf"[0-9]{{1,{MAX_PREFIX_DIGITS}}}")
# A plain decimal >= 0 with at most RATE_PLACES places (R-contract-5 holds for deck rates too).
_RATE = re.compile(r"[0-9]{1,12}(\.[0-9]+)?")
_SECONDS = re.compile(r"[0-9]{1,9}")
_UNIT = Fraction(1, 10**RATE_PLACES)


class RateRow(NamedTuple):
    prefix: str  # digits, no '+'
    country: str
    service: str  # outbound | extended_outbound | inbound
    rate_per_minute: Decimal
    min_s: int
    increment_s: int


@dataclass(frozen=True)
class RateDeck:
    """One deck file: `outbound` (outbound and extended_outbound rows) or `inbound`."""

    direction: str
    rows: tuple[RateRow, ...]
    _by_prefix: dict[str, RateRow] = field(init=False, repr=False, compare=False)
    _longest: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.direction not in DECK_SERVICES:
            raise ValueError(f"a deck is outbound or inbound, not {self.direction!r}")
        by_prefix = {row.prefix: row for row in self.rows}
        if len(by_prefix) != len(self.rows):
            raise ValueError("deck prefixes must be unique")
        object.__setattr__(self, "_by_prefix", by_prefix)
        object.__setattr__(self, "_longest", max(map(len, by_prefix), default=0))

    def match(self, e164: str) -> RateRow | None:
        """The row of the longest prefix of the number's digits (a leading '+' is ignored)."""
        digits = e164.removeprefix("+")
        for length in range(min(len(digits), self._longest), 0, -1):
            row = self._by_prefix.get(digits[:length])
            if row is not None:
                return row
        return None


def read_deck(raw: IO[bytes], direction: str) -> RateDeck:
    """Validate a deck file whole (`outbound.csv` or `inbound.csv`); Rejected lists every bad row
    with its line as an editor numbers it (R-ingest-1)."""
    services = DECK_SERVICES.get(direction)
    if services is None:
        raise ValueError(f"a deck is outbound or inbound, not {direction!r}")
    rows: list[RateRow] = []
    lines: dict[str, int] = {}  # prefix -> the line it was first given on

    def parse(cells: list[str]) -> RateRow:
        prefix, country, service, rate, min_s, increment_s = cells
        if not _PREFIX.fullmatch(prefix):
            raise RowError(
                "prefix", prefix, f"prefix must be 1 to {MAX_PREFIX_DIGITS} digits, without '+'"
            )
        if not country:
            raise RowError("country", country, "country is required")
        if service not in services:
            raise RowError(
                "service",
                service,
                f"service must be {' or '.join(services)} in {direction}.csv",
            )
        return RateRow(
            prefix,
            country,
            service,
            _rate(rate),
            _whole("min_s", min_s, 0),
            _whole("increment_s", increment_s, 1),
        )

    def keep(line: int, row: RateRow) -> None:
        first = lines.setdefault(row.prefix, line)
        if first != line:
            raise RowError(
                "prefix", row.prefix, f"prefix {row.prefix} is already given on line {first}"
            )
        rows.append(row)

    read_csv(raw, False, DECK_HEADER, parse, keep, FileSummary())
    return RateDeck(direction, tuple(rows))


def _rate(value: str) -> Decimal:
    if not _RATE.fullmatch(value):
        raise RowError("rate_per_minute", value, "rate_per_minute must be a plain decimal >= 0")
    rate = Decimal(value)
    if -int(rate.as_tuple().exponent) > RATE_PLACES:
        raise RowError(
            "rate_per_minute", value, f"rate_per_minute has at most {RATE_PLACES} decimal places"
        )
    return rate


def _whole(column: str, value: str, low: int) -> int:
    if not _SECONDS.fullmatch(value) or int(value) < low:
        raise RowError(column, value, f"{column} must be a whole number >= {low}")
    return int(value)


def adjusted_duration_s(duration_s: int, min_s: int, increment_s: int) -> int:
    """R-call-1: rounded up to whole increments, at least min_s; a 0 s call stays 0 s."""
    if duration_s == 0:
        return 0
    return max(min_s, -(-duration_s // increment_s) * increment_s)


def call_cost(adjusted_s: int, rate_per_minute: Decimal) -> Decimal:
    """R-call-1: adjusted_s / 60 × rate, rounded half-up to 4 places, computed exactly (dividing
    first in Decimal would turn an exact half like 50 s at 0.0003 into ...2499… and round down)."""
    units = floor(Fraction(adjusted_s) * Fraction(rate_per_minute) / 60 / _UNIT + Fraction(1, 2))
    return Decimal(f"{units}E-{RATE_PLACES}")


class Pricer:
    """Prices calls with the decks in force when their file is ingested (R-deck-1)."""

    def __init__(self, outbound: RateDeck | None, inbound: RateDeck | None):
        for deck, direction in ((outbound, "outbound"), (inbound, "inbound")):
            if deck is not None and deck.direction != direction:
                raise ValueError(f"the {direction} deck given is an {deck.direction} deck")
        self.decks = {"outbound": outbound, "inbound": inbound}

    def __call__(self, direction: str, origin: str, destination: str, duration_s: int) -> Price:
        # Outbound calls are rated by the destination, inbound calls by the origin.
        column, number = ("destination", destination)
        if direction == "inbound":
            column, number = ("origin", origin)
        deck = self.decks.get(direction)
        if deck is None:
            raise RowError(
                "direction",
                direction,
                f"no {direction} rate deck is in force for the org's region and currency",
            )
        row = deck.match(number)
        if row is None:
            raise RowError(column, number, f"no {direction} rate deck prefix matches {number}")
        adjusted = adjusted_duration_s(duration_s, row.min_s, row.increment_s)
        return Price(
            row.country,
            row.service,
            row.rate_per_minute,
            adjusted,
            call_cost(adjusted, row.rate_per_minute),
        )


def deck_to_json(deck: RateDeck) -> dict[str, Any]:
    """A deck for storage: its rows in the file's column order, decimals as strings."""
    return {
        "direction": deck.direction,
        "columns": DECK_HEADER.split(","),
        "rows": [
            [r.prefix, r.country, r.service, str(r.rate_per_minute), r.min_s, r.increment_s]
            for r in deck.rows
        ],
    }


def deck_from_json(obj: Mapping[str, Any]) -> RateDeck:
    """The deck deck_to_json stored, exactly (rates keep their exponent: "0.0100" stays)."""
    if obj.get("columns", DECK_HEADER.split(",")) != DECK_HEADER.split(","):
        raise ValueError(f"a stored deck has the columns {DECK_HEADER}")
    return RateDeck(
        obj["direction"],
        tuple(
            RateRow(str(p), str(c), str(s), Decimal(r), int(m), int(i))
            for p, c, s, r, m, i in obj["rows"]
        ),
    )
