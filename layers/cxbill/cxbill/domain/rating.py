"""License quantities of one org and period (R-tier, R-named-3): who is billable at which tier,
and the model's measure of A(T) (licensing/). Instants are epoch milliseconds; the period is
[start_ms, end_ms)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .contract import Contract
from .instants import DAY_MS, ms_date
from .licensing import license_model
from .licensing.tiers import ADD_ONS, TIER_RANK, TIERS, carries_add_ons
from .periods import BillingPeriod
from .sessions import BillableSessions, SessionRows, overlaps
from .usage import Assignment, Session

__all__ = [
    "TIER_RANK",
    "Chart",
    "LicenseUsage",
    "overlaps",
    "period_tiers",
    "rate_licenses",
]


@dataclass(frozen=True)
class Chart:
    """The period's daily usage, as the invoice PDF draws it (R-pdf-1)."""

    title: str
    points: tuple[tuple[date, Decimal], ...] = ()


@dataclass
class LicenseUsage:
    """Actual quantities A(T) per tier (users, or hours for hourly orgs) and add-on units."""

    actual: dict[str, Decimal] = field(default_factory=lambda: {t: Decimal(0) for t in TIERS})
    add_ons: dict[str, int] = field(default_factory=lambda: {a: 0 for a in ADD_ONS})
    warnings: list[str] = field(default_factory=list)
    chart: Chart = Chart("Daily billable users")


def rate_licenses(
    contract: Contract,
    period: BillingPeriod,
    sessions: BillableSessions | Iterable[Session],
    assignments: Iterable[Assignment],
    end_ms: int | None = None,
) -> LicenseUsage:
    """Rate the period [period.start, end_ms or period.end): the whole period, or a bill to date.
    `sessions` are rows, or the period's billable sessions measured where they are stored."""
    p_start, p_end = period.start_ms, period.end_ms if end_ms is None else end_ms
    if isinstance(sessions, BillableSessions):  # measured where they are stored
        if (sessions.start_ms, sessions.end_ms) != (p_start, p_end):
            raise ValueError("the sessions were measured over another range")
        billable: BillableSessions = sessions
    else:
        billable = SessionRows.of(sessions, p_start, p_end)
    users = billable.users()
    tiers, add_ons = period_tiers(assignments, users, p_start, p_end)
    usage = LicenseUsage()
    for user in sorted(users - tiers.keys()):
        tiers[user] = contract.default_tier
        usage.warnings.append(
            f"user {user} logged in without a Cloud CX license; billed as {contract.default_tier}"
        )
    for user, products in add_ons.items():
        if user in users and carries_add_ons(tiers[user]):
            for product in products:
                usage.add_ons[product] += 1
    model = license_model(contract)
    measured = model.measure(billable, tiers)
    usage.actual = measured.actual
    usage.chart = Chart(model.chart_title, _day_points(p_start, p_end, measured.daily))
    return usage


def period_tiers(
    assignments: Iterable[Assignment], users: set[str], p_start: int, p_end: int
) -> tuple[dict[str, str], dict[str, set[str]]]:
    """R-tier-1: each user's highest CX tier held at any instant of P, and their add-ons in P."""
    tiers: dict[str, str] = {}
    add_ons: dict[str, set[str]] = defaultdict(set)
    for a in assignments:
        if a.user_id not in users or a.assigned_ms == a.unassigned_ms:
            continue  # a zero-length assignment overlaps no period
        if not overlaps(a.assigned_ms, a.unassigned_ms, p_start, p_end):
            continue
        if a.product in TIER_RANK:
            held = tiers.get(a.user_id)
            if held is None or TIER_RANK[a.product] > TIER_RANK[held]:
                tiers[a.user_id] = a.product
        else:
            add_ons[a.user_id].add(a.product)
    return tiers, add_ons


def _day_points(
    p_start: int, p_end: int, values: Iterable[Decimal]
) -> tuple[tuple[date, Decimal], ...]:
    days = range(p_start, p_end, DAY_MS)
    return tuple((ms_date(d), Decimal(v)) for d, v in zip(days, values, strict=True))
