"""Hourly users (R-hourly): logged-in time in hours, in arrears, with no commitment or prepay."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..coverage import hours
from .model import (
    LicenseModel,
    LicenseTerms,
    Measured,
    TermProblem,
    missing_prices,
)
from .tiers import TIERS

if TYPE_CHECKING:
    from ..sessions import BillableSessions


class Hourly(LicenseModel):
    name = "hourly"
    chart_title = "Daily hours"
    arrears_price = "hourly"
    prepaid = False  # R-hourly-2: no commitments, no prepay, no opening invoice

    def term_problems(self, terms: LicenseTerms) -> list[TermProblem]:
        problems = []
        if terms.declared_commitments:  # R-contract-4; an empty object counts as none
            message = "hourly orgs have no commitments (R-contract-4)"
            problems.append(TermProblem("commitments", terms.commitments_json, message))
        return problems + missing_prices(terms, "hourly")

    def measure(self, sessions: BillableSessions, tiers: Mapping[str, str]) -> Measured:
        """R-hourly-1: per user the union of sessions clipped to P, summed per tier, in hours
        (rounded once per tier, not per user)."""
        per_tier = dict.fromkeys(TIERS, 0)
        for user, ms in sessions.covered_ms().items():
            per_tier[tiers[user]] += ms
        daily = sessions.daily_covered_ms()
        return Measured(
            {tier: hours(ms) for tier, ms in per_tier.items()}, tuple(map(hours, daily))
        )

    def line_name(self, tier: str) -> str:
        return f"Cloud CX {tier[-1]} User Hours"

    def product(self, tier: str) -> str:
        return f"{tier}_HOURS"


HOURLY = Hourly()
