"""Late usage of closed periods, re-rated with the terms billed then (R-ingest-4, R-invoice-6)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..domain.books import CloseRecord, Org
from ..domain.contract import contract_from_json
from ..domain.invoice import Invoice, InvoiceLine, adjustment_lines, billed_lines
from ..domain.periods import billing_period
from ..domain.ports import Ledger, UsageSource
from ..domain.schedule import period_key
from .usage import rate_period


@dataclass
class Adjustments:
    lines: tuple[InvoiceLine, ...] = ()
    # period index -> its close record, now with what is billed
    records: dict[int, CloseRecord] = field(default_factory=dict)


def period_close_record(
    key: str, invoice: Invoice | None, index: int, terms: Mapping[str, Any]
) -> CloseRecord:
    """What a period's close keeps: its terms and what it billed (adjustment lines aside)."""
    billed = [
        line for line in billed_lines(invoice) if not line["product"].startswith("adjustment:")
    ]
    return CloseRecord(key, index, terms, tuple(billed))


def pending_adjustments(ledger: Ledger, usage: UsageSource, org: Org, before: int) -> Adjustments:
    """Re-rate every closed period (< `before`) that received late usage, against what it billed."""
    result = Adjustments()
    lines: list[InvoiceLine] = []
    for index in sorted(k for k in org.late_periods if k < before):
        key = period_key(org.org_id, index)
        record = ledger.close_record(org.org_id, key)
        if record is None or record.terms is None:
            continue
        then = contract_from_json(dict(record.terms))
        period = billing_period(then.activation_date, index)
        rerated = rate_period(usage, then, period).invoice()
        lines += adjustment_lines(list(record.billed), rerated, period)
        result.records[index] = period_close_record(key, rerated, index, record.terms)
    result.lines = tuple(lines)
    return result
