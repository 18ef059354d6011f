"""Close what is due for an org: rate, number and record it atomically, then render the PDF
(section 6, R-invoice-1..3, R-pdf-1/2). Safe to run any number of times for the same message."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, date, datetime

from ..adapters.documents import Documents
from ..adapters.ledger import AlreadyIssued, Issue, Ledger, Org, Orgs
from ..adapters.pdf import render_invoice_pdf
from ..adapters.settings import Settings
from ..adapters.usage_store import UsageStore
from ..domain.invoice import Invoice, one_time_invoice, opening_invoice
from ..domain.periods import billing_period
from ..domain.rating import Chart
from ..domain.schedule import Due, unbilled_charges
from .adjustments import pending_adjustments, period_close_record
from .usage import rate_period

NO_CHART = Chart("")
ATTEMPTS = 3


class OutOfOrder(Exception):
    """A period arrived before the one ahead of it was closed: retried later."""


class CloseJob:
    def __init__(self, settings: Settings):
        self.orgs = Orgs()
        self.ledger = Ledger(settings)
        self.store = UsageStore(settings)
        self.documents = Documents(settings)

    def __call__(self, due: Due) -> str | None:
        """Issue what `due` names (once), then make sure that day's invoices have PDFs."""
        number = None
        for _attempt in range(ATTEMPTS):
            org = self.orgs.get(due.org_id)
            issue = self.plan(org, due) if org else None
            if org is None or issue is None:  # nothing (left) to issue
                break
            try:
                number = self.ledger.issue(org, org.state, issue, _now())
                break
            except AlreadyIssued:
                continue  # a duplicate got there first, or the org moved on: plan again
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
        return self._plan_one_time(org, due)

    def _plan_period(self, org: Org, key: str, k: int) -> Issue | None:
        """Usage in arrears, the next prepay, and adjustments for late usage (R-invoice-6)."""
        contract, state = org.contract, org.state
        if k < state.closed_periods:
            return None
        if k > state.closed_periods:
            raise OutOfOrder(f"{key}: period {state.closed_periods} is not closed yet")
        period = billing_period(contract.activation_date, k)
        rated = rate_period(self.store, contract, period)
        late = pending_adjustments(self.ledger, self.store, org, before=k)
        invoice = rated.invoice(adjustments=late.lines)
        terms = json.loads(org.item.contract)
        return self._issue(
            org,
            key,
            invoice,
            replace(state, closed_periods=k + 1),
            rated.licenses.chart,
            period_close_record(invoice, k, terms),
            late.records,
        )

    def _plan_opening(self, org: Org, key: str) -> Issue | None:
        if org.state.opened:
            return None
        return self._issue(org, key, opening_invoice(org.contract), replace(org.state, opened=True))

    def _plan_one_time(self, org: Org, due: Due) -> Issue | None:
        state, day = org.state, due.issue_date
        charges = [c for c in unbilled_charges(org.contract, state, day) if c.day == day]
        if not charges:
            return None
        identities = sorted(c.identity for c in charges)
        # An entry added later for an invoiced date gets an invoice of its own (R-once-1).
        key = f"{due.key}:{hashlib.sha256('|'.join(identities).encode()).hexdigest()[:16]}"
        billed = replace(state, billed_charges=state.billed_charges | set(identities))
        return self._issue(org, key, one_time_invoice(org.contract, day, charges), billed)

    def _issue(
        self,
        org: Org,
        close_key: str,
        invoice: Invoice | None,
        state,
        chart: Chart = NO_CHART,
        close_record: dict | None = None,
        adjusted: dict | None = None,
    ) -> Issue:
        contract = org.contract
        document = {
            "org_name": contract.name,
            "billing_address": list(contract.billing_address),
            "payment_terms_days": contract.payment_terms_days,
            "partner": contract.partner,
            "chart": {
                "title": chart.title,
                "points": [[d.isoformat(), str(v)] for d, v in chart.points],
            },
        }
        return Issue(
            close_key,
            state,
            invoice.as_json() if invoice else None,
            document,
            close_record or {"due": close_key},
            adjusted or {},
        )

    def render_pdfs(self, org_id: str, day: date) -> None:
        """Render every invoice issued on `day` that has no PDF yet (a retry finishes the job)."""
        for item in self.ledger.issued_on(org_id, day):
            if item.pdf_key:
                continue
            doc = {**json.loads(item.document), "record": json.loads(item.record)}
            key, sha = self.documents.put_pdf(org_id, item.number, render_invoice_pdf(doc))
            self.ledger.attach_pdf(item, key, sha)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
