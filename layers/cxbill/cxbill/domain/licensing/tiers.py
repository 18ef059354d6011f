"""The products a license model bills: Cloud CX tiers and the add-ons that ride on them."""

from __future__ import annotations

TIERS = ("CX1", "CX2", "CX3")  # lowest first
ADD_ONS = ("DIGITAL", "WEM")
TIER_RANK = {tier: rank for rank, tier in enumerate(TIERS)}
_ADD_ON_TIERS = frozenset({"CX1", "CX2"})


def carries_add_ons(tier: str) -> bool:
    """R-named-3: add-ons are sold on top of Cloud CX 1 or 2; a CX3 user's add-ons bill nothing."""
    return tier in _ADD_ON_TIERS
