"""4.2.5 numbers: a phone number held over [acquired, released), billed monthly per number and
once per acquisition (R-num-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from ..contract import NUMBER_TYPES
from ..instants import date_ms
from ..lines import TELCO_CHARGES, Draft
from .charging import bill, count, held, ordered
from .fields import choice, e164, span
from .kind import Cells, UsageKind

if TYPE_CHECKING:
    from ..contract import Contract
    from ..periods import BillingPeriod

NUMBER_NAMES = {
    "did_monthly": "Local Number – Prepay",
    "did_setup": "Local Number – Setup",
    "toll_free_monthly": "Toll-Free Number",
    "toll_free_setup": "Toll-Free Number – Setup",
}


class PhoneNumber(NamedTuple):
    """A number held over [acquired, released)."""

    number: str
    type: str
    acquired_ms: int
    released_ms: int  # OPEN_END while still held

    @property
    def identity(self) -> tuple[str, int]:
        return self.number, self.acquired_ms

    @property
    def span(self) -> tuple[int, int]:
        return self.acquired_ms, self.released_ms


def parse_number(cells: Cells) -> PhoneNumber:
    number, type_, acquired_at, released_at = cells
    e164("number", number)
    choice("type", type_, NUMBER_TYPES)
    return PhoneNumber(number, type_, *span("acquired_at", acquired_at, "released_at", released_at))


def add_numbers(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[PhoneNumber]
) -> None:
    """R-num-1: one monthly unit per number held in P; one setup unit per acquisition in P."""
    p_start, p_end = period.start_ms, period.end_ms
    first_setup = max(p_start, date_ms(contract.activation_date))
    latest: dict[str, tuple[int, str]] = {}
    setups: dict[str, int] = {}
    for row in rows:
        if not held(row.acquired_ms, row.released_ms, p_start, p_end):
            continue
        mark = (row.acquired_ms, row.type)
        latest[row.number] = max(latest.get(row.number, mark), mark)
        if first_setup <= row.acquired_ms < p_end:
            setups[row.type] = setups.get(row.type, 0) + 1
    monthly = count(kind for _, kind in latest.values())
    for kind in ordered(monthly, NUMBER_TYPES):
        _bill_number(draft, contract, period, kind, "monthly", monthly[kind])
    for kind in ordered(setups, NUMBER_TYPES):
        _bill_number(draft, contract, period, kind, "setup", setups[kind])


def _bill_number(
    draft: Draft, contract: Contract, period: BillingPeriod, kind: str, fee: str, units: int
) -> None:
    product = f"{kind}_{fee}"
    price = contract.numbers.get(kind, {}).get(fee)
    name = NUMBER_NAMES.get(product, product)
    bill(draft, period, TELCO_CHARGES, product, name, units, price, f"numbers.{kind}.{fee}")


NUMBERS = UsageKind(
    "numbers",
    "number,type,acquired_at,released_at",
    PhoneNumber,
    ("name", "name", "instant", "instant"),
    ("number", "acquired_ms"),
    parse_number,
    charge=add_numbers,
)
