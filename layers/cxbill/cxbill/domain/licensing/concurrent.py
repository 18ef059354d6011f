"""Concurrent users (R-conc): tiers billed highest first from sustained 30-minute peaks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from ..coverage import daily_sustained_peaks, sustained_peak, user_coverage
from .model import LicenseModel, LicenseTerms, Measured, TermProblem, missing_prepay, missing_prices
from .tiers import TIER_RANK, TIERS

if TYPE_CHECKING:
    from ..usage import Session


class Concurrent(LicenseModel):
    name = "concurrent"
    chart_title = "Daily sustained peak"
    arrears_price = "overage"

    def term_problems(self, terms: LicenseTerms) -> list[TermProblem]:
        return missing_prices(terms, "overage") + missing_prepay(terms)

    def measure(
        self, billable: Sequence[Session], tiers: Mapping[str, str], start_ms: int, end_ms: int
    ) -> Measured:
        """R-conc-3: A(T) = peak(S>=T) - peak(S>T), so the tiers add up to the org's peak."""
        coverage = user_coverage(
            ((s.user_id, s.login_ms, s.logout_ms) for s in billable), start_ms, end_ms
        )
        actual: dict[str, Decimal] = {}
        above = 0
        for tier in reversed(TIERS):
            at_least = [c for u, c in coverage.items() if TIER_RANK[tiers[u]] >= TIER_RANK[tier]]
            peak = sustained_peak(at_least, start_ms, end_ms)
            actual[tier] = Decimal(peak - above)
            above = peak
        daily = daily_sustained_peaks(coverage, start_ms, end_ms)
        return Measured({t: actual[t] for t in TIERS}, tuple(map(Decimal, daily)))

    def line_name(self, tier: str) -> str:
        return f"Cloud CX {tier[-1]} Concurrent User"


CONCURRENT = Concurrent()
