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
from .usage_kinds.tally import Tally


@dataclass(frozen=True)
class PeriodCharges:
    lines: tuple[InvoiceLine, ...]
    warnings: tuple[str, ...]


def rate_charges(
    contract: Contract,
    period: BillingPeriod,
    usage: Mapping[str, Iterable],
    tallies: Mapping[str, Iterable[Tally]] | None = None,
) -> PeriodCharges:
    """The charge lines of `period` (or of a period cut at an as-of date: everything is measured
    over [period.start, period.end)) from its usage, by kind: each kind's own charge rule. A kind
    that bills from tallies reads them from `tallies` (the store grouped its rows) or, when not
    given there, from its rows in `usage`, tallied here."""
    draft = Draft()
    for kind in USAGE_KINDS.values():
        if kind.charge is None:
            continue
        given = (tallies or {}).get(kind.name)
        if given is not None:
            kind.charge(draft, contract, period, given)
        elif kind.tally is not None:
            rows = usage.get(kind.name, ())
            kind.charge(draft, contract, period, kind.tally.of_rows(rows, *period_range(period)))
        else:
            kind.charge(draft, contract, period, usage.get(kind.name, ()))
    return PeriodCharges(tuple(draft.lines), tuple(draft.warnings))


def period_range(period: BillingPeriod) -> tuple[int, int]:
    return period.start_ms, period.end_ms
