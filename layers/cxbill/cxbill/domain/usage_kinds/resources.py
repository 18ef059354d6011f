"""4.2.3 resources: a resource's quantity on one UTC date, billed past what the contract
includes (R-res-1)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from ..contract import RESOURCE_TYPES
from ..instants import DAY_MS
from ..lines import RESOURCE_CHARGES, Draft
from .charging import bill, ordered
from .fields import choice, day, quantity
from .kind import Cells, UsageKind

if TYPE_CHECKING:
    from ..contract import Contract
    from ..periods import BillingPeriod

RESOURCE_NAMES = {
    "ivr_minutes": "IVR minutes",
    "storage_gb": "Data storage (GB)",
    "sms_messages": "SMS messages",
    "api_requests": "API requests",
    "byoc_minutes": "BYOC minutes",
}
PEAK_RESOURCES = frozenset({"storage_gb"})  # billed at the largest daily value, not the sum


class ResourceUse(NamedTuple):
    """A resource's quantity on one UTC date (`day_ms` = its 00:00)."""

    day_ms: int
    resource: str
    quantity: Decimal

    @property
    def identity(self) -> tuple[int, str]:
        return self.day_ms, self.resource

    @property
    def span(self) -> tuple[int, int]:
        return self.day_ms, self.day_ms + DAY_MS


def parse_resource(cells: Cells) -> ResourceUse:
    date, resource, amount = cells
    return ResourceUse(
        day("date", date),
        choice("resource", resource, RESOURCE_TYPES),
        quantity("quantity", amount),
    )


def resource_quantities(
    rows: Iterable[ResourceUse], start_ms: int, end_ms: int
) -> dict[str, Decimal]:
    """Per resource, the period quantity: the sum of the dates in P (storage_gb: the largest)."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if not start_ms <= row.day_ms < end_ms:
            continue
        before = totals.get(row.resource, Decimal(0))
        if row.resource in PEAK_RESOURCES:
            totals[row.resource] = max(before, row.quantity)
        else:
            totals[row.resource] = before + row.quantity
    return totals


def add_resources(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[ResourceUse]
) -> None:
    """R-res-1: each resource's period quantity past what the contract includes."""
    totals = resource_quantities(rows, period.start_ms, period.end_ms)
    for resource in ordered(totals, RESOURCE_NAMES):
        terms = contract.resources.get(resource, {})
        included = terms.get("included", Decimal(0))
        billed = max(Decimal(0), totals[resource] - included)
        name = RESOURCE_NAMES.get(resource, resource)
        if included:
            name = f"{name} ({included:f} included)"
        rate = terms.get("rate")
        price_key = f"resources.{resource}.rate"
        bill(draft, period, RESOURCE_CHARGES, resource, name, billed, rate, price_key)


RESOURCES = UsageKind(
    "resources",
    "date,resource,quantity",
    ResourceUse,
    ("instant", "name", "decimal"),
    ("day_ms", "resource"),
    parse_resource,
    charge=add_resources,
)
