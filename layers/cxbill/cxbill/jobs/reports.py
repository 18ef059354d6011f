"""Usage reports on request (SPEC 7, section 8): build the CSV from stored usage, keep it in the
documents bucket, hand back a presigned URL (R-api-2)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime

from ..domain.contract import Contract
from ..domain.ports import Documents, Orgs, UsageSource
from ..domain.reports import REPORT_DEFINITIONS, REPORTS, SESSIONS, Row, Usage, header, write_csv
from .invoices import NotFound


class ReportDesk:
    def __init__(self, orgs: Orgs, usage: UsageSource, documents: Documents):
        self.orgs = orgs
        self.store = usage
        self.documents = documents

    def generate(
        self, org_id: str, report: str, first: date, last: date, now: datetime | None = None
    ) -> dict:
        """The report of [first, last] (both included) as `{"url", "expires_at"}`."""
        if report not in REPORTS:
            raise NotFound(report)
        org = self.orgs.get(org_id)
        if org is None:
            raise NotFound(org_id)
        with_cost = org.contract.partner is None  # R-report-1
        rows = self._rows(org.contract, report, first, last)
        with tempfile.TemporaryFile() as spool:  # the CSV never has to fit in memory
            out = io.TextIOWrapper(spool, encoding="utf-8", newline="")
            write_csv(header(report, with_cost), rows, out)
            out.flush()
            out.detach()
            spool.seek(0)
            key = self.documents.put_report(org_id, report, first, last, spool)
        return self.documents.signed_url(key, now or datetime.now(UTC)).as_json()

    def _rows(self, contract: Contract, report: str, first: date, last: date) -> Iterator[Row]:
        """The report's rows, one window of usage at a time (SPEC 11: memory bounded by a
        window's usage, not by the range): the kinds it reads loaded as rows, and its billable
        sessions, when it reads them, measured where they are stored (issue 8 item 4), open for
        as long as its rows are read."""
        definition = REPORT_DEFINITIONS[report]
        org_id = contract.org_id
        for window in definition.windows(contract, first, last):
            with ExitStack() as stack:
                usage: Usage = {
                    kind: self.store.load(org_id, kind, window.start_ms, window.end_ms)
                    for kind in definition.reads
                }
                if definition.sessions:
                    measured = self.store.sessions(
                        org_id, window.start_ms, window.end_ms, emails=True
                    )
                    usage = {**usage, SESSIONS: stack.enter_context(measured)}
                yield from definition.rows(window, usage)
