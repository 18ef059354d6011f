"""4.2.2 licenses: license assignments over time; what named users' tiers and add-ons are
measured from (licensing/). Bills nothing by itself."""

from __future__ import annotations

from typing import NamedTuple

from ..licensing.tiers import ADD_ONS, TIERS
from .fields import choice, required, span
from .kind import Cells, UsageKind

PRODUCTS = frozenset(TIERS + ADD_ONS)


class Assignment(NamedTuple):
    user_id: str
    email: str
    product: str
    assigned_ms: int
    unassigned_ms: int  # OPEN_END while still assigned

    @property
    def identity(self) -> tuple[str, str, int]:
        return self.user_id, self.product, self.assigned_ms

    @property
    def span(self) -> tuple[int, int]:
        return self.assigned_ms, self.unassigned_ms


def parse_license(cells: Cells) -> Assignment:
    user_id, email, product, assigned_at, unassigned_at = cells
    choice("product", product, PRODUCTS)
    held = span("assigned_at", assigned_at, "unassigned_at", unassigned_at)
    return Assignment(required("user_id", user_id), email, product, *held)


LICENSES = UsageKind(
    "licenses",
    "user_id,email,product,assigned_at,unassigned_at",
    Assignment,
    ("name", "name", "name", "instant", "instant"),
    ("user_id", "product", "assigned_ms"),
    parse_license,
)
