"""Concurrent users (R-conc): tiers billed highest first from sustained 30-minute peaks."""

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
from .tiers import TIER_RANK, TIERS

if TYPE_CHECKING:
    from ..sessions import BillableSessions


class Concurrent(LicenseModel):
    name = "concurrent"
    chart_title = "Daily sustained peak"
    arrears_price = "overage"

    def term_problems(self, terms: LicenseTerms) -> list[TermProblem]:
        return missing_prices(terms, "overage") + missing_prepay(terms)

    def measure(self, sessions: BillableSessions, tiers: Mapping[str, str]) -> Measured:
        """R-conc-3: A(T) = peak(S>=T) - peak(S>T), so the tiers add up to the org's peak."""
        levels = {user: TIER_RANK[tier] for user, tier in tiers.items()}
        highest_first = list(reversed(TIERS))
        peaks = sessions.sustained_peaks(levels, [TIER_RANK[t] for t in highest_first])
        actual: dict[str, Decimal] = {}
        above = 0
        for tier, peak in zip(highest_first, peaks, strict=True):
            actual[tier] = Decimal(peak - above)
            above = peak
        daily = sessions.daily_sustained_peaks()
        return Measured({t: actual[t] for t in TIERS}, tuple(map(Decimal, daily)))

    def line_name(self, tier: str) -> str:
        return f"Cloud CX {tier[-1]} Concurrent User"


CONCURRENT = Concurrent()
