"""Close what is due for an org: rate, number and record it atomically, then render the PDF
(section 6, R-invoice-1..3, R-pdf-1/2). Safe to run any number of times for the same message."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from ..domain.books import (
    NO_CHART,
    AlreadyIssued,
    CloseRecord,
    InvoiceDocument,
    Issue,
    Org,
)
from ..domain.events import invoice_issued, invoice_pdf_ready
from ..domain.invoice import Invoice, one_time_invoice, opening_invoice
from ..domain.issuer import issuer_in_force
from ..domain.periods import billing_period
from ..domain.ports import Documents, Events, Ledger, Orgs, UsageSource
from ..domain.rating import Chart
from ..domain.schedule import Due, OrgState, next_due, unbilled_charges
from .adjustments import pending_adjustments, period_close_record
from .usage import rate_period

ATTEMPTS = 3

Renderer = Callable[[InvoiceDocument], bytes]
# Told of each invoice issued without a seller (R-pdf-3: the operator's alarm counts them).
MissingIssuer = Callable[[InvoiceDocument], None]
log = logging.getLogger(__name__)


class OutOfOrder(Exception):
    """A period arrived before the one ahead of it was closed: retried later."""


class CloseJob:
    def __init__(
        self,
        orgs: Orgs,
        ledger: Ledger,
        usage: UsageSource,
        documents: Documents,
        render: Renderer,
        events: Events | None = None,
        missing_issuer: MissingIssuer | None = None,
    ):
        self.orgs = orgs
        self.ledger = ledger
        self.usage = usage
        self.documents = documents
        self.render = render
        self.events = events
        self.missing_issuer = missing_issuer

    def close_message(self, message: dict) -> str | None:
        """A close queue message's body (`Due.as_message`)."""
        return self(Due.from_message(message))

    def __call__(self, due: Due) -> str | None:
        """Issue what `due` names (once), then make sure that day's invoices have PDFs."""
        number = None
        for _attempt in range(ATTEMPTS):
            org = self.orgs.get(due.org_id)
            issue = self.plan(org, due) if org else None
            if org is None or issue is None:  # nothing (left) to issue
                break
            issue = self._with_issuer(issue)
            try:
                self.ledger.issue(org, issue)
            except AlreadyIssued:
                continue  # a duplicate got there first, or the org moved on: plan again
            number = issue.document.invoice.number if issue.document else None
            break
        else:
            raise OutOfOrder(f"{due.key}: the org kept changing under the close; retried later")
        self.render_pdfs(due.org_id, due.issue_date)
        return number

    def plan(self, org: Org, due: Due) -> Issue | None:
        """What issuing `due` writes, or None when it is already issued."""
        if due.kind == "period":
            assert due.period_index is not None  # a period's close always names its period
            return self._plan_period(org, due.key, due.period_index)
        if due.kind == "opening":
            return self._plan_opening(org, due.key)
        if due.kind == "pdf":  # nothing to issue: the day's PDFs are rendered below
            return None
        return self._plan_one_time(org, due)

    def _plan_period(self, org: Org, key: str, k: int) -> Issue | None:
        """Usage in arrears, the next prepay, and adjustments for late usage (R-invoice-6)."""
        contract, state = org.contract, org.state
        if k < state.closed_periods:
            return None
        if k > state.closed_periods:
            raise OutOfOrder(f"{key}: period {state.closed_periods} is not closed yet")
        period = billing_period(contract.activation_date, k)
        rated = rate_period(self.usage, contract, period)
        late = pending_adjustments(self.ledger, self.usage, org, before=k)
        invoice = rated.invoice(adjustments=late.lines)
        record = period_close_record(key, invoice, k, org.terms)
        after = replace(state, closed_periods=k + 1)
        return _issue(org, key, invoice, after, rated.licenses.chart, record, late.records)

    def _plan_opening(self, org: Org, key: str) -> Issue | None:
        if org.state.opened:
            return None
        after = replace(org.state, opened=True)
        return _issue(org, key, opening_invoice(org.contract), after)

    def _plan_one_time(self, org: Org, due: Due) -> Issue | None:
        state, day = org.state, due.issue_date
        charges = [c for c in unbilled_charges(org.contract, state, day) if c.day == day]
        if not charges:
            return None
        identities = sorted(c.identity for c in charges)
        # An entry added later for an invoiced date gets an invoice of its own (R-once-1).
        key = f"{due.key}:{hashlib.sha256('|'.join(identities).encode()).hexdigest()[:16]}"
        billed = replace(state, billed_charges=state.billed_charges | set(identities))
        return _issue(org, key, one_time_invoice(org.contract, day, charges), billed)

    def _with_issuer(self, issue: Issue) -> Issue:
        """R-pdf-3: the seller in force for the invoice's currency, copied into its document so
        a re-render years later shows the seller as it was. None stored: issued without one,
        and the operator is told (a warning and a metric), not the customer."""
        document = issue.document
        if document is None:
            return issue
        issuer = issuer_in_force(document.invoice.currency, self.documents.get_issuer)
        if issuer is None:
            log.warning(
                "invoice %s issued without a seller: no config/issuer.json (or issuer-%s.json) "
                "serves %s (R-pdf-3)",
                document.invoice.number,
                document.invoice.currency,
                document.invoice.currency,
            )
            if self.missing_issuer is not None:
                self.missing_issuer(document)
            return issue
        return replace(issue, document=replace(document, issuer=issuer.for_invoice()))

    def render_pdfs(self, org_id: str, day: date) -> None:
        """Render every invoice issued on `day` that has no PDF yet (a retry finishes the job).

        R-ops-1: `invoice.issued` and `invoice.pdf_ready` are published before the PDF is
        attached, so a crash anywhere before that publishes both again on the retry, with the
        same event ids; once attached, the invoice is done and nothing is published again."""
        for issued in self.ledger.issued_on(org_id, day):
            if issued.pdf_key:
                continue
            number = issued.invoice.number
            self._publish(*invoice_issued(issued.invoice))
            key, sha = self.documents.put_pdf(org_id, number, self.render(issued.document))
            self._publish(*invoice_pdf_ready(org_id, number, key, sha))
            self.ledger.attach_pdf(org_id, number, key, sha)

    def _publish(self, detail_type: str, detail: dict, event_id: str) -> None:
        if self.events is not None:
            self.events.publish(detail_type, detail, event_id)


def _issue(
    org: Org,
    close_key: str,
    invoice: Invoice | None,
    state: OrgState,
    chart: Chart = NO_CHART,
    close_record: CloseRecord | None = None,
    adjusted: dict[int, CloseRecord] | None = None,
) -> Issue:
    """The close as one write: the invoice numbered next in the org's gap-free sequence
    (R-invoice-2) and the day the org is next due."""
    document = None
    if invoice is not None:
        numbered = invoice.numbered(org.invoice_seq + 1)
        document = InvoiceDocument.of(org.contract, numbered, chart)
    return Issue(
        close_key,
        state,
        next_due(org.contract, state),
        document,
        close_record or CloseRecord(close_key),
        adjusted or {},
    )
