"""Stored usage rated for a period: what a close, an adjustment and a bill to date start from."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.charges import PeriodCharges, rate_charges
from ..domain.contract import Contract
from ..domain.invoice import Invoice, InvoiceLine, bill_to_date, period_invoice
from ..domain.periods import BillingPeriod
from ..domain.ports import UsageSource
from ..domain.rating import LicenseUsage, rate_licenses
from ..domain.usage_kinds import USAGE_KINDS


@dataclass(frozen=True)
class RatedPeriod:
    contract: Contract
    period: BillingPeriod
    licenses: LicenseUsage
    charges: PeriodCharges

    def invoice(self, adjustments: tuple[InvoiceLine, ...] = ()) -> Invoice | None:
        """The period's close: arrears, the next prepay, and adjustments (R-invoice-6)."""
        return period_invoice(
            self.contract,
            self.period,
            self.licenses,
            adjustments=adjustments,
            charges=self.charges.lines,
            charge_warnings=self.charges.warnings,
        )

    def estimate(self, adjustments: tuple[InvoiceLine, ...] = ()) -> Invoice:
        """R-bill-1: the same, cut at the as-of date, without the next prepay."""
        return bill_to_date(
            self.contract,
            self.period,
            self.licenses,
            adjustments,
            self.charges.lines,
            self.charges.warnings,
        )


def rate_period(store: UsageSource, contract: Contract, period: BillingPeriod) -> RatedPeriod:
    """Rate [period.start, period.end) from normalized usage (never the raw uploads): every
    usage kind is read once, licenses rate logins and assignments, the charge rules the rest."""
    start, end, org = period.start_ms, period.end_ms, contract.org_id
    # What each rule needs, where the usage is (SPEC 11): logins answer per-user questions in
    # the store, kinds billed from totals come as tallies, the others as rows.
    tallied = [kind.name for kind in USAGE_KINDS.values() if kind.tally is not None]
    tallies = {kind: store.tally(org, kind, start, end) for kind in tallied}
    rows = [k for k in USAGE_KINDS if k != "logins" and k not in tallies]
    usage = {kind: store.load(org, kind, start, end) for kind in rows}
    with store.sessions(org, start, end) as sessions:
        licenses = rate_licenses(contract, period, sessions, usage["licenses"])
    charges = rate_charges(contract, period, usage, tallies)
    return RatedPeriod(contract, period, licenses, charges)
