"""Named users (R-named): anyone with a billable login in the period is one unit of their tier."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from .model import (
    LicenseModel,
    LicenseTerms,
    Measured,
    TermProblem,
    measured_sessions,
    missing_prepay,
    missing_prices,
)
from .tiers import TIERS

if TYPE_CHECKING:
    from ..sessions import BillableSessions
    from ..usage import Session


class Named(LicenseModel):
    name = "named"
    chart_title = "Daily billable users"
    arrears_price = "overage"

    def term_problems(self, terms: LicenseTerms) -> list[TermProblem]:
        return missing_prices(terms, "overage") + missing_prepay(terms)

    def measure(
        self,
        billable: BillableSessions | Sequence[Session],
        tiers: Mapping[str, str],
        start_ms: int,
        end_ms: int,
    ) -> Measured:
        """R-named-1/2: one unit per billable user at their period tier, unprorated."""
        actual = dict.fromkeys(TIERS, Decimal(0))
        for tier in tiers.values():
            actual[tier] += 1
        return Measured(actual, daily_users(billable, start_ms, end_ms))

    def line_name(self, tier: str) -> str:
        return f"Cloud CX {tier[-1]} User"


def daily_users(
    billable: BillableSessions | Sequence[Session], start_ms: int, end_ms: int
) -> tuple[Decimal, ...]:
    """Distinct users with a billable session touching each UTC day (a zero-length session
    counts on the day of its instant)."""
    return tuple(map(Decimal, measured_sessions(billable, start_ms, end_ms).daily_users()))


NAMED = Named()
