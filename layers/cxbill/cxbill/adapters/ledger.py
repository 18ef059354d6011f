"""Orgs and their invoices in DynamoDB, translated to and from the domain's books.

Issuing is one transaction: the org's bookkeeping moves on, the gap-free number is taken and
the invoice record is written together, or nothing is (R-invoice-1, R-invoice-2). The plan
(what to write, which number, when the org is next due) is the job's; this module only writes
it on the condition that the org is still as the job read it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from ..domain.books import (
    AlreadyIssued,
    CloseRecord,
    InvoiceDocument,
    Issue,
    IssuedInvoice,
    Org,
    Revision,
    invoice_from_json,
)
from ..domain.contract import contract_from_json
from ..domain.issuer import Issuer
from ..domain.ports import ContractSuperseded, ContractUpdate
from ..domain.rating import Chart
from ..domain.schedule import OrgState
from .models import DUE_SHARD, PDF_PENDING, LedgerItem, OrgItem
from .settings import Settings


class DynamoOrgs:
    def get(self, org_id: str) -> Org | None:
        try:
            item = OrgItem.get(org_id, consistent_read=True)
        except DoesNotExist:
            return None
        return _org(item)

    def save_contract(self, update: ContractUpdate) -> None:
        """A new contract in force; the bookkeeping of what was issued stays (R-contract-7/8)."""
        org_id = update.contract.org_id
        # Model.update wants a list (checked at run time), so it is typed wide, not a Sequence.
        actions: list[Action] = [
            OrgItem.contract.set(json.dumps(update.terms, ensure_ascii=False)),
            OrgItem.contract_key.set(update.upload.key),
            OrgItem.contract_version.set(update.upload.version),
            OrgItem.invoice_seq.set(OrgItem.invoice_seq | 0),
            OrgItem.opened.set(OrgItem.opened | False),
            *_due_actions(update.next_due),
        ]
        if update.converted_from_trial:  # R-trial-2: periods anchor anew
            actions += [OrgItem.converted_from_trial.set(True), OrgItem.closed_periods.set(0)]
        else:
            actions.append(OrgItem.closed_periods.set(OrgItem.closed_periods | 0))
        seq = update.upload.seq
        actions.append(OrgItem.contract_seq.set(seq))
        # R-ingest-7: a contract uploaded earlier never replaces one uploaded later, whichever
        # is processed last; the bookkeeping it was planned on must still hold.
        condition = OrgItem.contract_seq.does_not_exist() | (OrgItem.contract_seq < seq)
        if update.previous is not None:
            condition &= OrgItem.closed_periods == update.previous.closed_periods
            condition &= OrgItem.opened == update.previous.opened
        try:
            OrgItem(org_id).update(actions=actions, condition=condition)
        except UpdateError as e:
            if _conditional(e):
                raise ContractSuperseded(seq) from e
            raise

    def due_by(self, day: date) -> list[tuple[str, date]]:
        """Orgs with something due on or before `day`, oldest first: a Query on the due index."""
        return [
            (item.org_id, date.fromisoformat(item.next_due))
            for item in OrgItem.due_index.query(DUE_SHARD, OrgItem.next_due <= day.isoformat())
        ]

    def note_usage(self, org_id: str, late: set[int]) -> int:
        actions: list[Action] = [OrgItem.usage_marks.add(1)]
        if late:
            actions.append(OrgItem.late_periods.add(late))
        item = OrgItem(org_id)
        item.update(actions=actions)  # PynamoDB reads the item back (ALL_NEW)
        return int(item.closed_periods or 0)


def _conditional(e: UpdateError) -> bool:
    return e.cause_response_code == "ConditionalCheckFailedException"


def _org(item: OrgItem) -> Org:
    terms = json.loads(item.contract)
    return Org(
        contract=contract_from_json(terms),
        terms=terms,
        state=OrgState(
            closed_periods=int(item.closed_periods or 0),
            opened=bool(item.opened),
            billed_charges=frozenset(item.billed_charges or ()),
            converted_from_trial=bool(item.converted_from_trial),
        ),
        late_periods=frozenset(int(k) for k in item.late_periods or ()),
        invoice_seq=int(item.invoice_seq or 0),
        revision=Revision(int(item.usage_marks or 0), item.contract_version, item.contract_seq),
    )


def _due_actions(next_due: date | None) -> list[Action]:
    if next_due is None:  # nothing will ever be due (a trial): leave the due index
        return [OrgItem.due_shard.remove(), OrgItem.next_due.remove()]
    return [OrgItem.due_shard.set(DUE_SHARD), OrgItem.next_due.set(next_due.isoformat())]


class DynamoLedger:
    def __init__(self, settings: Settings):
        self.connection = Connection(region=settings.region, host=settings.endpoint_url)

    def issue(self, org: Org, issue: Issue) -> None:
        """Write the close atomically, or raise AlreadyIssued and write nothing."""
        org_id, issued = org.org_id, issue.document is not None
        try:
            with TransactWrite(connection=self.connection) as tx:
                if issue.document is not None:
                    tx.save(_invoice_item(issue.document), condition=LedgerItem.sk.does_not_exist())
                tx.save(
                    _close_item(org_id, issue.close_key, issue.close_record, issue.document),
                    condition=LedgerItem.sk.does_not_exist(),
                )
                for record in issue.adjusted.values():
                    tx.update(
                        LedgerItem(org_id, f"close#{record.due}"),
                        actions=[LedgerItem.record.set(json.dumps(_close_json(record)))],
                        condition=LedgerItem.sk.exists(),
                    )
                tx.update(
                    OrgItem(org_id),
                    actions=_bookkeeping(org, issue, issued),
                    condition=_unchanged(
                        org, issue.state.billed_charges - org.state.billed_charges
                    ),
                )
        except TransactWriteError as e:
            raise AlreadyIssued(issue.close_key) from e

    def close_record(self, org_id: str, close_key: str) -> CloseRecord | None:
        try:
            item = LedgerItem.get(org_id, f"close#{close_key}", consistent_read=True)
        except DoesNotExist:
            return None
        return _close_record(close_key, json.loads(item.record))

    def invoice(self, org_id: str, number: str) -> IssuedInvoice | None:
        try:
            return _issued(LedgerItem.get(org_id, f"invoice#{number}", consistent_read=True))
        except DoesNotExist:
            return None

    def issued_on(self, org_id: str, day: date) -> list[IssuedInvoice]:
        query = LedgerItem.by_issue_date.query(
            org_id, LedgerItem.issue_date == day.isoformat(), consistent_read=True
        )
        return [_issued(item) for item in query]

    def issued_between(self, org_id: str, first: date, last: date) -> list[IssuedInvoice]:
        """Invoices issued in [first, last], newest first (a Query on the issue-date index)."""
        query = LedgerItem.by_issue_date.query(
            org_id,
            LedgerItem.issue_date.between(first.isoformat(), last.isoformat()),
            scan_index_forward=False,
        )
        return [_issued(item) for item in query]

    def attach_pdf(self, org_id: str, number: str, key: str, sha256: str) -> None:
        LedgerItem(org_id, f"invoice#{number}").update(
            actions=[
                LedgerItem.pdf_key.set(key),
                LedgerItem.pdf_sha256.set(sha256),
                LedgerItem.pdf_pending.remove(),
            ],
            condition=LedgerItem.sk.exists(),
        )

    def pdf_pending(self) -> list[IssuedInvoice]:
        """Issued invoices still without a PDF: a Query on the sparse pending index."""
        keys = LedgerItem.by_pdf_pending.query(PDF_PENDING)
        found = (self.invoice(k.org_id, k.sk.removeprefix("invoice#")) for k in keys)
        return [issued for issued in found if issued is not None and not issued.pdf_key]


def _bookkeeping(org: Org, issue: Issue, issued: bool) -> list[Action]:
    state = issue.state
    actions: list[Action] = [
        OrgItem.closed_periods.set(state.closed_periods),
        OrgItem.opened.set(state.opened),
        *_due_actions(issue.next_due),
    ]
    if issued:
        actions.append(OrgItem.invoice_seq.set(org.invoice_seq + 1))
    new_charges = state.billed_charges - org.state.billed_charges
    if new_charges:
        actions.append(OrgItem.billed_charges.add(new_charges))
    if issue.adjusted:  # late usage now billed: those periods are clean again
        actions.append(OrgItem.late_periods.delete(set(issue.adjusted)))
    return actions


def _unchanged(org: Org, new_charges: Iterable[str]) -> Condition:
    """The org is as the close read it: same bookkeeping, no usage or terms stored since (else
    the close plans again with what it did not see)."""
    condition = OrgItem.invoice_seq == org.invoice_seq
    condition &= OrgItem.closed_periods == org.state.closed_periods
    condition &= OrgItem.opened == org.state.opened
    marks = org.revision.usage_marks
    condition &= (OrgItem.usage_marks == marks) | OrgItem.usage_marks.does_not_exist()
    condition &= OrgItem.contract_version == org.revision.contract_version
    for charge in new_charges:
        condition &= ~OrgItem.billed_charges.contains(charge)
    return condition


# -- items <-> books --------------------------------------------------------------------------


def _invoice_item(document: InvoiceDocument) -> LedgerItem:
    invoice = document.invoice
    return LedgerItem(
        invoice.org_id,
        f"invoice#{invoice.number}",
        number=invoice.number,
        issue_date=invoice.issue_date.isoformat(),
        record=json.dumps(invoice.as_json()),
        document=json.dumps(_document_json(document)),
        pdf_pending=PDF_PENDING,
        issued_at=_now(),
    )


def _document_json(document: InvoiceDocument) -> dict[str, Any]:
    chart = document.chart
    return {
        "org_name": document.org_name,
        "billing_address": list(document.billing_address),
        "payment_terms_days": document.payment_terms_days,
        "partner": document.partner,
        "chart": {
            "title": chart.title,
            "points": [[d.isoformat(), str(v)] for d, v in chart.points],
        },
        # R-pdf-3: the seller as it was at issue (absent: none was stored then)
        **({"issuer": document.issuer.as_json()} if document.issuer else {}),
    }


def _issued(item: LedgerItem) -> IssuedInvoice:
    doc = json.loads(item.document)
    chart = doc.get("chart") or {}
    document = InvoiceDocument(
        invoice=invoice_from_json(json.loads(item.record)),
        org_name=doc["org_name"],
        billing_address=tuple(doc["billing_address"]),
        payment_terms_days=int(doc["payment_terms_days"]),
        partner=doc.get("partner"),
        chart=Chart(
            chart.get("title", ""),
            tuple((date.fromisoformat(d), Decimal(v)) for d, v in chart.get("points", ())),
        ),
        issuer=Issuer.from_json(doc["issuer"]) if doc.get("issuer") else None,
    )
    return IssuedInvoice(document, item.pdf_key, item.pdf_sha256)


def _close_item(
    org_id: str, close_key: str, record: CloseRecord, document: InvoiceDocument | None
) -> LedgerItem:
    return LedgerItem(
        org_id,
        f"close#{close_key}",
        number=document.invoice.number if document else None,
        record=json.dumps(_close_json(record)),
        issued_at=_now(),
    )


def _close_json(record: CloseRecord) -> dict[str, Any]:
    if record.period_index is None:
        return {"due": record.due}
    return {
        "period_index": record.period_index,
        "contract": dict(record.terms or {}),
        "billed": [dict(line) for line in record.billed],
    }


def _close_record(close_key: str, data: dict[str, Any]) -> CloseRecord:
    if "period_index" not in data:
        return CloseRecord(close_key)
    return CloseRecord(close_key, data["period_index"], data["contract"], tuple(data["billed"]))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
