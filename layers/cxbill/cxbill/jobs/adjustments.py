"""Late usage of closed periods, re-rated with the terms billed then (R-ingest-4, R-invoice-6)."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..adapters.ledger import Ledger, Org
from ..adapters.usage_store import UsageStore
from ..domain.contract import contract_from_json
from ..domain.invoice import Invoice, InvoiceLine, adjustment_lines, billed_lines
from ..domain.periods import billing_period
from ..domain.schedule import period_key
from .usage import rate_period


@dataclass
class Adjustments:
    lines: tuple[InvoiceLine, ...] = ()
    # period index -> (its close record key, the close record with what is now billed)
    records: dict[int, tuple[str, dict]] = field(default_factory=dict)


def period_close_record(invoice: Invoice | None, index: int, raw_contract: dict) -> dict:
    """What a period's close keeps: its terms and what it billed (adjustment lines aside)."""
    billed = [
        line for line in billed_lines(invoice) if not line["product"].startswith("adjustment:")
    ]
    return {"period_index": index, "contract": raw_contract, "billed": billed}


def pending_adjustments(ledger: Ledger, store: UsageStore, org: Org, before: int) -> Adjustments:
    """Re-rate every closed period (< `before`) that received late usage, against what it billed."""
    result = Adjustments()
    lines: list[InvoiceLine] = []
    org_id = org.contract.org_id
    for index in sorted(int(j) for j in (org.item.late_periods or ()) if j < before):
        key = period_key(org_id, index)
        record = ledger.close_record(org_id, key)
        if record is None:
            continue
        then = contract_from_json(record["contract"])
        period = billing_period(then.activation_date, index)
        rerated = rate_period(store, then, period).invoice()
        lines += adjustment_lines(record["billed"], rerated, period)
        result.records[index] = (key, period_close_record(rerated, index, record["contract"]))
    result.lines = tuple(lines)
    return result
