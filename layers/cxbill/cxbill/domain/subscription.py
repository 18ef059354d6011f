"""The subscription view (SPEC 8): per product, licenses assigned now, committed, and used so
far this period."""

from __future__ import annotations

from collections.abc import Iterable

from .contract import ADD_ONS, TIERS, Contract
from .rating import LicenseUsage
from .usage import Assignment


def assigned_at(assignments: Iterable[Assignment], instant_ms: int) -> dict[str, int]:
    """Distinct users holding each product at an instant."""
    holders: dict[str, set[str]] = {p: set() for p in TIERS + ADD_ONS}
    for a in assignments:
        if a.assigned_ms <= instant_ms < a.unassigned_ms:
            holders[a.product].add(a.user_id)
    return {product: len(users) for product, users in holders.items()}


def subscription_view(contract: Contract, assigned: dict[str, int], used: LicenseUsage) -> list:
    rows = []
    for product in TIERS + ADD_ONS:
        used_so_far = used.actual[product] if product in TIERS else used.add_ons[product]
        rows.append(
            {
                "product": product,
                "assigned": assigned[product],
                "committed": contract.committed(product) if product in TIERS else 0,
                "used": str(used_so_far),
            }
        )
    return rows
