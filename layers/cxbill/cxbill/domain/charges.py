"""Non-license charges of a period: resources, devices, numbers and calls (SPEC 5.6).

Pure: rows in, invoice lines and warnings out. Each kind that bills has its rule in its own
module of usage_kinds; this runs them in order. Each reads its rows once, keeping only
per-product totals (and the ids seen), so memory does not grow with the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .contract import Contract
from .lines import Draft, InvoiceLine
from .periods import BillingPeriod
from .usage_kinds import USAGE_KINDS


@dataclass(frozen=True)
class PeriodCharges:
    lines: tuple[InvoiceLine, ...]
    warnings: tuple[str, ...]


def rate_charges(
    contract: Contract, period: BillingPeriod, usage: Mapping[str, Iterable]
) -> PeriodCharges:
    """The charge lines of `period` (or of a period cut at an as-of date: everything is measured
    over [period.start, period.end)) from its usage, by kind: each kind's own charge rule."""
    draft = Draft()
    for kind in USAGE_KINDS.values():
        if kind.charge is not None:
            kind.charge(draft, contract, period, usage.get(kind.name, ()))
    return PeriodCharges(tuple(draft.lines), tuple(draft.warnings))
