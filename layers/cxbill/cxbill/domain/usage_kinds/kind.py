"""What a usage kind is (4.1, 4.2): the contract every module of this package fulfils."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from sys import intern
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeAlias, TypeVar

from .tally import TallySpec

if TYPE_CHECKING:  # for annotations only: the kinds' modules import this one
    from ..contract import Contract
    from ..lines import Draft
    from ..periods import BillingPeriod
    from .calls import CallPricer


class Usage(Protocol):
    """What every normalized row offers: the store keeps the latest row per identity (R-usage-1,
    R-ingest-3), and span is [first, last] instant it bills (what a period reads)."""

    @property
    def identity(self) -> Hashable: ...

    @property
    def span(self) -> tuple[int, int]: ...


Row = TypeVar("Row", bound=Usage)
Cells: TypeAlias = list[str]
Parse: TypeAlias = Callable[[Cells], Any]

# How the normalized store keeps each field (its columns follow the row's fields):
# text     a string as given (identities: one per row)
# name     a string that repeats across rows (users, emails, types): interned when read back,
#          so one string each keeps a large org's period in memory (SPEC 11)
# instant  UTC epoch milliseconds
# integer  a whole number
# decimal  a Decimal with its exact digits ("3.50" stays "3.50")
# cost     a Decimal of exactly 4 places (R-call-1)
COLUMN_TYPES = ("text", "name", "instant", "integer", "decimal", "cost")

# A kind's rule for the charge lines of a period from its rows (SPEC 5.6).
ChargeRule: TypeAlias = "Callable[[Draft, Contract, BillingPeriod, Iterable[Any]], None]"


class IngestContext(Protocol):
    """What a kind may ask of the ingest while its file is read."""

    def call_pricer(self) -> CallPricer:
        """The org's rate decks in force for this upload (R-deck-1)."""


_FROM_TEXT: dict[str, Callable[[str], Any]] = {
    "text": str,
    "name": intern,
    "instant": int,
    "integer": int,
    "decimal": Decimal,
    "cost": Decimal,
}


@dataclass(frozen=True)
class UsageKind(Generic[Row]):
    """One kind of usage file, as 4.1 places it and 4.2 defines it: everything about it but the
    contract's prices for it (the customer's price list, domain/contract.py)."""

    name: str  # its folder: usage/<org_id>/<name>/<file>.csv[.gz]
    header: str  # the exact header line
    row: type[Row]
    columns: tuple[str, ...]  # a COLUMN_TYPES entry per field of `row`, in order
    identity: tuple[str, ...]  # the fields of `row.identity`, by which the latest upload wins
    # Validates one record's cells into a row, raising RowError. None for a kind that cannot be
    # read without context: then `parse_with` makes it from the ingest's context.
    parse: Parse | None
    parse_with: Callable[[IngestContext], Parse] | None = None
    charge: ChargeRule | None = None  # None: the kind bills nothing by itself
    # A kind whose rule bills from totals: its charge rule reads Tally groups, not rows.
    tally: TallySpec | None = None

    def __post_init__(self) -> None:
        fields = self.row._fields  # type: ignore[attr-defined]
        if len(self.columns) != len(fields) or not set(self.columns) <= set(COLUMN_TYPES):
            raise TypeError(f"{self.name}: one of {COLUMN_TYPES} per field of {fields}")
        if not set(self.identity) <= set(fields):
            raise TypeError(f"{self.name}: its identity names fields of {fields}")
        if (self.parse is None) == (self.parse_with is None):
            raise TypeError(f"{self.name}: exactly one of parse and parse_with")
        if self.tally is not None:
            types = dict(zip(fields, self.columns, strict=True))
            if not set(self.tally.fields) <= set(fields) or types[self.tally.within] != "instant":
                raise TypeError(
                    f"{self.name}: its tally names fields of {fields}, within an instant"
                )
            if any(types[f] not in ("instant", "integer", "cost") for f in self.tally.sums):
                raise TypeError(f"{self.name}: a tally sums integer or cost fields")

    @property
    def width(self) -> int:
        return self.header.count(",") + 1

    @property
    def fields(self) -> tuple[str, ...]:
        return self.row._fields  # type: ignore[attr-defined]

    def parser(self, context: IngestContext) -> Parse:
        """How to read this kind's records in the ingest at hand."""
        if self.parse is not None:
            return self.parse
        assert self.parse_with is not None
        return self.parse_with(context)

    @staticmethod
    def to_cells(row: Row) -> Cells:
        """The normalized form: str() of each field, as the store's csv.writer writes them.
        Decimal(str(d)) keeps d's digits and exponent, so "3.50" comes back as "3.50"."""
        return [str(value) for value in row]  # type: ignore[attr-defined]

    def from_cells(self, cells: Cells) -> Row:
        """to_cells back into the row, exactly (repeated strings interned)."""
        return self.row(*(_FROM_TEXT[t](c) for t, c in zip(self.columns, cells, strict=True)))
