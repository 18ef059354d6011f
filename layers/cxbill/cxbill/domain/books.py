"""The billing books in domain types: an org as the jobs see it, the invoice documents and close
records the ledger keeps, and what one close writes (R-invoice-1/2/5, R-invoice-6).

Adapters translate these to and from items and objects; jobs never see a database shape."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .contract import Contract
from .instants import ms_date, parse_instant
from .invoice import Invoice, InvoiceLine, TaxLine
from .issuer import Issuer
from .rating import Chart
from .schedule import OrgState

NO_CHART = Chart("")


@dataclass(frozen=True)
class Revision:
    """What a write to an org conditions on: the usage batches counted and the contract stored
    when the org was read. A close that saw an older revision plans again."""

    usage_marks: int = 0
    contract_version: str | None = None
    contract_seq: str | None = None  # the upload order of the contract in force (R-ingest-7)


@dataclass(frozen=True)
class Org:
    """An org: its terms in force and the bookkeeping of what has been issued."""

    contract: Contract
    terms: Mapping[str, Any]  # the contract JSON as uploaded and validated (kept by closes)
    state: OrgState = field(default_factory=OrgState)
    late_periods: frozenset[int] = frozenset()  # closed periods with late usage (R-ingest-4)
    invoice_seq: int = 0  # invoices issued so far: the next one is numbered invoice_seq + 1
    revision: Revision = field(default_factory=Revision)

    @property
    def org_id(self) -> str:
        return self.contract.org_id


@dataclass(frozen=True)
class InvoiceDocument:
    """An invoice with what its PDF shows beyond the record (R-invoice-4, R-pdf-1)."""

    invoice: Invoice
    org_name: str
    billing_address: tuple[str, ...]
    payment_terms_days: int
    partner: str | None = None
    chart: Chart = NO_CHART
    issuer: Issuer | None = None  # the seller as it was at issue (R-pdf-3); None: none stored

    def __post_init__(self) -> None:
        if isinstance(self.issuer, Mapping):  # an issuer record (`Issuer.as_json`) is accepted
            object.__setattr__(self, "issuer", Issuer.from_json(self.issuer))

    @classmethod
    def of(cls, contract: Contract, invoice: Invoice, chart: Chart = NO_CHART) -> InvoiceDocument:
        return cls(
            invoice,
            contract.name,
            tuple(contract.billing_address),
            contract.payment_terms_days,
            contract.partner,
            chart,
        )

    def record(self) -> dict[str, Any]:
        """The invoice record (R-invoice-5) plus `issuer` when the invoice has a seller
        (R-pdf-3)."""
        record = self.invoice.as_json()
        if self.issuer is not None:
            record["issuer"] = self.issuer.as_json()
        return record


@dataclass(frozen=True)
class IssuedInvoice:
    """An invoice in the ledger, and its PDF once rendered (R-pdf-2)."""

    document: InvoiceDocument
    pdf_key: str | None = None
    pdf_sha256: str | None = None

    @property
    def invoice(self) -> Invoice:
        return self.document.invoice


@dataclass(frozen=True)
class CloseRecord:
    """What a close keeps: for a period, the terms it billed with and its billed lines (the base
    of later adjustments, R-invoice-6); for anything else only that it happened."""

    due: str
    period_index: int | None = None
    terms: Mapping[str, Any] | None = None
    billed: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True)
class Issue:
    """What one close writes atomically: the org's bookkeeping after it, the day its next thing
    falls due, the numbered invoice (if any), its close record, and the closed periods whose
    late usage it bills (their close records, now with what is billed)."""

    close_key: str
    state: OrgState
    next_due: date | None
    document: InvoiceDocument | None
    close_record: CloseRecord
    adjusted: Mapping[int, CloseRecord] = field(default_factory=dict)


class AlreadyIssued(Exception):
    """Someone else issued this first, or the org moved on; nothing was written."""


# -- the invoice record (R-invoice-5) back into its type ----------------------------------------


def invoice_from_json(record: Mapping[str, Any]) -> Invoice:
    """The inverse of `Invoice.as_json`: the same record, field for field."""
    cost = "total" in record  # a statement carries no cost field (R-partner-1)
    return Invoice(
        kind=record["kind"],
        org_id=record["org_id"],
        issue_date=date.fromisoformat(record["issue_date"]),
        due_date=date.fromisoformat(record["due_date"]),
        currency=record["currency"],
        period_start=_date_of(record["period_start"]),
        period_end=_date_of(record["period_end"]),
        lines=tuple(_line(line) for line in record["lines"]),
        subtotal=Decimal(record["subtotal"]) if cost else Decimal(0),
        taxes=tuple(
            TaxLine(t["name"], Decimal(t["rate"]), Decimal(t["amount"]))
            for t in record.get("taxes", ())
        ),
        total=Decimal(record["total"]) if cost else Decimal(0),
        warnings=tuple(record.get("warnings", ())),
        number=record.get("number", ""),
    )


def _line(line: Mapping[str, Any]) -> InvoiceLine:
    rate, amount = line.get("rate"), line.get("amount")
    return InvoiceLine(
        line["section"],
        line["product"],
        line["description"],
        _date_of(line["service_start"]),
        _date_of(line["service_end"]),
        Decimal(line["quantity"]),
        None if rate is None else Decimal(rate),
        None if amount is None else Decimal(amount),
    )


def _date_of(instant: str) -> date:
    """Record instants are midnights UTC (R-invoice-5): "2026-01-15T00:00:00Z" -> 2026-01-15."""
    return ms_date(parse_instant(instant))
