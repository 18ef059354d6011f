"""The jobs on in-memory fakes of their ports (tests/fakes.py): no moto, no network.
Shared by tests/jobs/ (its conftest gives each test a fresh `Books`)."""

from __future__ import annotations

import copy
import json
from datetime import date

from fakes import (
    FakeCloseQueue,
    FakeDocuments,
    FakeHeldUploads,
    FakeIngestionLog,
    FakeLedger,
    FakeOrgs,
    FakeUploads,
    FakeUsage,
)

from cxbill.domain.books import InvoiceDocument
from cxbill.domain.instants import date_ms
from cxbill.domain.ports import Upload
from cxbill.jobs.close import CloseJob
from cxbill.jobs.daily import DailyJob
from cxbill.jobs.ingest import IngestJob
from cxbill.jobs.invoices import InvoiceDesk
from cxbill.jobs.reports import ReportDesk

ACME = {
    "org_id": "acme",
    "name": "Acme Corp",
    "billing_address": ["1 Main St", "Springfield, IL 62701"],
    "region": "us-east-1",
    "currency": "USD",
    "activation_date": "2026-01-15",
    "license_model": "named",
    "subscription": "monthly",
    "commitments": {"CX2": 2},
    "prices": {
        "CX1": {"overage": "90.00"},
        "CX2": {"prepay": "95.00", "overage": "115.00"},
        "CX3": {"overage": "160.00"},
    },
    "taxes": [{"name": "State sales tax", "rate": "0.0625"}],
}
LOGINS = "session_id,user_id,email,client,login_at,logout_at"
LICENSES = "user_id,email,product,assigned_at,unassigned_at"


def fake_render(document: InvoiceDocument) -> bytes:
    """A stand-in renderer: the PDF adapter has its own tests; here only its input matters."""
    return f"%PDF {document.invoice.number} {document.invoice.as_json().get('total')}".encode()


class Books:
    """Every port faked, every job built on them, and a clock the test moves."""

    def __init__(self) -> None:
        self.orgs = FakeOrgs()
        self.ledger = FakeLedger(self.orgs)
        self.usage = FakeUsage()
        self.uploads = FakeUploads()
        self.documents = FakeDocuments()
        self.ingestions = FakeIngestionLog()
        self.queue = FakeCloseQueue()
        self.held = FakeHeldUploads()
        self.ingest = IngestJob(
            self.orgs, self.usage, self.uploads, self.documents, self.ingestions, self.held
        )
        self.close = CloseJob(self.orgs, self.ledger, self.usage, self.documents, fake_render)
        self.daily = DailyJob(self.orgs, self.ledger, self.queue, self.held, self.ingest)
        self.desk = InvoiceDesk(self.orgs, self.ledger, self.usage, self.documents)
        self.reports = ReportDesk(self.orgs, self.usage, self.documents)
        self._n = 0

    def upload(self, key: str, body: str | bytes, day: date, version: str | None = None):
        self._n += 1
        version = version or f"v{self._n}"
        data = body.encode() if isinstance(body, str) else body
        self.uploads.put(key, data, version)
        return self.ingest(Upload(key, version, date_ms(day) + self._n))

    def contract(self, day: date = date(2026, 1, 10), **overrides):
        terms = copy.deepcopy(ACME) | overrides
        return self.upload(f"contracts/{terms['org_id']}.json", json.dumps(terms), day)

    def run_daily(self, day: date) -> list[str | None]:
        """The day's run, then every close message it sent, in order."""
        self.queue.sent.clear()
        self.daily(day)
        return [self.close.close_message(m) for m in self.queue.sent]
