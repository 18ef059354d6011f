"""Named users (R-named): anyone with a billable login in the period is one unit of their tier."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING

from .model import (
    LicenseModel,
    LicenseTerms,
    Measured,
    TermProblem,
    missing_prepay,
    missing_prices,
)
from .tiers import TIERS

if TYPE_CHECKING:
    from ..sessions import BillableSessions


class Named(LicenseModel):
    name = "named"
    chart_title = "Daily billable users"
    arrears_price = "overage"

    def term_problems(self, terms: LicenseTerms) -> list[TermProblem]:
        return missing_prices(terms, "overage") + missing_prepay(terms)

    def measure(self, sessions: BillableSessions, tiers: Mapping[str, str]) -> Measured:
        """R-named-1/2: one unit per billable user at their period tier, unprorated."""
        actual = dict.fromkeys(TIERS, Decimal(0))
        for tier in tiers.values():
            actual[tier] += 1
        return Measured(actual, tuple(map(Decimal, sessions.daily_users())))

    def line_name(self, tier: str) -> str:
        return f"Cloud CX {tier[-1]} User"


NAMED = Named()
