"""License quantities of one org and period: named, concurrent and hourly (R-tier, R-named,
R-conc, R-hourly). Instants are epoch milliseconds; the period is [start_ms, end_ms)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .contract import ADD_ONS, TIERS, Contract
from .coverage import daily_covered_ms, daily_sustained_peaks, hours, sustained_peak, user_coverage
from .instants import DAY_MS, ms_date
from .periods import BillingPeriod
from .usage import Assignment, Session

TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}


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


def overlaps(start: int, end: int, p_start: int, p_end: int) -> bool:
    """Half-open overlap; a zero-length interval overlaps when its instant lies inside."""
    if start == end:
        return p_start <= start < p_end
    return start < p_end and end > p_start


def rate_licenses(
    contract: Contract,
    period: BillingPeriod,
    sessions: Iterable[Session],
    assignments: Iterable[Assignment],
    end_ms: int | None = None,
) -> LicenseUsage:
    """Rate the period [period.start, end_ms or period.end): the whole period, or a bill to date."""
    p_start, p_end = period.start_ms, period.end_ms if end_ms is None else end_ms
    billable = [s for s in sessions if s.billable and overlaps(*s.span, p_start, p_end)]
    users = {s.user_id for s in billable}
    tiers, add_ons = period_tiers(assignments, users, p_start, p_end)
    usage = LicenseUsage()
    for user in sorted(users - tiers.keys()):
        tiers[user] = contract.default_tier
        usage.warnings.append(
            f"user {user} logged in without a Cloud CX license; billed as {contract.default_tier}"
        )
    for user, products in add_ons.items():
        if user in users and tiers[user] in ("CX1", "CX2"):  # R-named-3: add-ons ride on CX1/CX2
            for product in products:
                usage.add_ons[product] += 1
    rate = {"named": _named, "concurrent": _concurrent, "hourly": _hourly}[contract.license_model]
    rate(usage, billable, tiers, p_start, p_end)
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


def _days(p_start: int, p_end: int) -> list[int]:
    return list(range(p_start, p_end, DAY_MS))


def _day_points(p_start: int, p_end: int, values) -> tuple[tuple[date, Decimal], ...]:

    return tuple(
        (ms_date(d), Decimal(v)) for d, v in zip(_days(p_start, p_end), values, strict=True)
    )


def _named(usage: LicenseUsage, billable: list[Session], tiers, p_start, p_end) -> None:
    """R-named-1/2: one unit per billable user at their period tier, unprorated."""
    for tier in tiers.values():
        usage.actual[tier] += 1
    daily: list[set[str]] = [set() for _ in _days(p_start, p_end)]
    for s in billable:
        first = max(s.login_ms, p_start)
        last = min(max(s.logout_ms - 1, s.login_ms), p_end - 1)
        for i in range((first - p_start) // DAY_MS, (last - p_start) // DAY_MS + 1):
            daily[i].add(s.user_id)
    usage.chart = Chart("Daily billable users", _day_points(p_start, p_end, map(len, daily)))


def _concurrent(usage: LicenseUsage, billable: list[Session], tiers, p_start, p_end) -> None:
    """R-conc-3: tiers billed highest first from the sustained peaks of S>=T."""
    coverage = user_coverage(
        ((s.user_id, s.login_ms, s.logout_ms) for s in billable), p_start, p_end
    )
    above = 0
    for tier in reversed(TIERS):
        at_least = [c for u, c in coverage.items() if TIER_RANK[tiers[u]] >= TIER_RANK[tier]]
        peak = sustained_peak(at_least, p_start, p_end)
        usage.actual[tier] = Decimal(peak - above)
        above = peak
    peaks = daily_sustained_peaks(coverage, p_start, p_end)
    usage.chart = Chart("Daily sustained peak", _day_points(p_start, p_end, peaks))


def _hourly(usage: LicenseUsage, billable: list[Session], tiers, p_start, p_end) -> None:
    """R-hourly-1: per user the union of sessions clipped to P, summed per tier, in hours."""
    coverage = user_coverage(
        ((s.user_id, s.login_ms, s.logout_ms) for s in billable), p_start, p_end
    )
    per_tier = dict.fromkeys(TIERS, 0)
    for user, spans in coverage.items():
        per_tier[tiers[user]] += sum(end - start for start, end in spans)
    usage.actual = {tier: hours(ms) for tier, ms in per_tier.items()}
    daily = [hours(ms) for ms in daily_covered_ms(coverage, p_start, p_end)]
    usage.chart = Chart("Daily hours", _day_points(p_start, p_end, daily))
