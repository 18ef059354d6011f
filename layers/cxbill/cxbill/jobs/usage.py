"""Stored usage rated for a period: what a close and a bill to date both start from."""

from __future__ import annotations

from ..adapters.usage_store import UsageStore
from ..domain.contract import Contract
from ..domain.periods import BillingPeriod
from ..domain.rating import LicenseUsage, rate_licenses


def rate_period(store: UsageStore, contract: Contract, period: BillingPeriod) -> LicenseUsage:
    """Rate [period.start, period.end) from normalized usage (never the raw uploads)."""
    sessions = store.load(contract.org_id, "logins", period.start_ms, period.end_ms)
    assignments = store.load(contract.org_id, "licenses", period.start_ms, period.end_ms)
    return rate_licenses(contract, period, sessions, assignments)
