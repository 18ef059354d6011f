"""What every license model answers (R-contract-3): the contract terms it needs, how it measures
the actual quantity A(T) of a period, and how its lines are named."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from .tiers import TIERS

if TYPE_CHECKING:  # usage imports contract, which imports this package: types only
    from ..sessions import BillableSessions


@dataclass(frozen=True)
class LicenseTerms:
    """The license part of a contract as uploaded, for a model to validate (R-contract-4/5)."""

    commitments_json: Any  # the `commitments` value as uploaded, for the report
    declared_commitments: Mapping[str, Any]  # its tiers, valid or not
    committed: Mapping[str, int]  # the valid, non-zero commitments among them
    prices: Mapping[str, Mapping[str, Any] | None]  # per product; None when not an object


class TermProblem(NamedTuple):
    """A contract problem at a JSON path, as the rejection report names it."""

    path: str
    value: Any
    message: str


@dataclass(frozen=True)
class Measured:
    """A period as a model measures it: A(T) per tier, and one value per UTC day for the chart."""

    actual: dict[str, Decimal]
    daily: tuple[Decimal, ...]


class LicenseModel(ABC):
    """One license model. Subclasses set the class facts and implement the three methods."""

    name: ClassVar[str]  # the contract's `license_model`
    chart_title: ClassVar[str]  # what the invoice chart of daily usage shows (R-pdf-1)
    arrears_price: ClassVar[str]  # the price kind A(T) bills at in arrears
    # Commitments, prepay lines and opening invoices come together; hourly has none (R-hourly-2).
    prepaid: ClassVar[bool] = True

    @abstractmethod
    def term_problems(self, terms: LicenseTerms) -> list[TermProblem]:
        """What the contract lacks or has too much of for this model."""

    @abstractmethod
    def measure(self, sessions: BillableSessions, tiers: Mapping[str, str]) -> Measured:
        """A(T) of the sessions' range from the billable sessions overlapping it (answered in
        Python or where they are stored), each user billed at their period tier (`tiers`)."""

    @abstractmethod
    def line_name(self, tier: str) -> str:
        """The line a user of `tier` bills on in arrears (R-sub line names)."""

    def product(self, tier: str) -> str:
        """The product code of the arrears line (R-invoice-5)."""
        return tier

    def prepay_name(self, tier: str) -> str:
        return f"{self.line_name(tier)} – Prepay"

    def prepay_product(self, tier: str) -> str:
        return f"{tier}_PREPAY"


# -- term checks shared by the models --------------------------------------------------------------


def missing_prices(terms: LicenseTerms, kind: str) -> list[TermProblem]:
    """R-contract-5: every tier needs a price of `kind`. An entry that is not an object was
    reported already, so it is skipped here."""
    return [
        TermProblem(f"prices.{tier}.{kind}", None, f"missing the {kind} price of {tier}")
        for tier in TIERS
        if (entry := terms.prices.get(tier, {})) is not None and kind not in entry
    ]


def missing_prepay(terms: LicenseTerms) -> list[TermProblem]:
    """R-contract-5: a committed tier is prepaid, so it needs a prepay price."""
    return [
        TermProblem(f"prices.{tier}.prepay", None, f"{tier} is committed but has no prepay price")
        for tier in terms.committed
        if (entry := terms.prices.get(tier, {})) is not None and "prepay" not in entry
    ]
