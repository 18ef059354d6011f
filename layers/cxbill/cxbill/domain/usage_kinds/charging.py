"""What the kinds that bill a charge share (SPEC 5.6): a line for the whole period, or a warning
when the contract has no price for it (R-sub-6, R-price-1). These charges bill in ramp as after
it (R-sub-1)."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from ..lines import Draft, span

if TYPE_CHECKING:
    from ..periods import BillingPeriod


def bill(
    draft: Draft,
    period: BillingPeriod,
    section: str,
    product: str,
    description: str,
    quantity: Decimal | int,
    rate: Decimal | None,
    price_key: str,
) -> None:
    """A line for the whole period; quantity 0 gives none (R-sub-6), a missing price a warning
    naming the contract key to set (R-price-1)."""
    if quantity and rate is None:
        draft.warnings.append(f"{quantity} {product} not billed: the contract has no {price_key}")
        return
    draft.add(section, product, description, span(period), quantity, rate)


def held(start: int, end: int, p_start: int, p_end: int) -> bool:
    """Held at some instant of P: half-open overlap; a zero-length row is held at no instant."""
    return start < end and start < p_end and end > p_start


def count(kinds: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def ordered(found: dict, known: Iterable[str]) -> list[str]:
    """The keys of `found` in the order of `known`, then any others sorted."""
    first = [k for k in known if k in found]
    return first + sorted(k for k in found if k not in first)
