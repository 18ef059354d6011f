"""Usage reports on request (SPEC 7, section 8): build the CSV from stored usage, keep it in the
documents bucket, hand back a presigned URL (R-api-2)."""

from __future__ import annotations

import io
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime

from ..domain.contract import Contract
from ..domain.ports import Documents, Orgs, UsageSource
from ..domain.reports import (
    REPORTS,
    Row,
    billable_usage_rows,
    concurrent_usage_rows,
    day_windows,
    header,
    periods_overlapping,
    range_ms,
    resources_usage_rows,
    user_hours_rows,
    voice_usage_rows,
    write_csv,
)
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
        rows = self._rows(org.contract, report, first, last, with_cost)
        with tempfile.TemporaryFile() as spool:  # the CSV never has to fit in memory
            out = io.TextIOWrapper(spool, encoding="utf-8", newline="")
            write_csv(header(report, with_cost), rows, out)
            out.flush()
            out.detach()
            spool.seek(0)
            key = self.documents.put_report(org_id, report, first, last, spool)
        return self.documents.signed_url(key, now or datetime.now(UTC)).as_json()

    def _rows(
        self, contract: Contract, report: str, first: date, last: date, with_cost: bool
    ) -> Iterator[Row]:
        """The report's rows, one window of usage loaded at a time (SPEC 11: memory bounded by a
        period's usage, not by the range)."""
        org_id, load = contract.org_id, self.store.load
        if report == "billable_usage":  # by billing period: tiers and first logins are per period
            for p in periods_overlapping(contract.activation_date, first, last):
                yield from billable_usage_rows(
                    contract,
                    p,
                    first,
                    last,
                    load(org_id, "logins", p.start_ms, p.end_ms),
                    load(org_id, "licenses", p.start_ms, p.end_ms),
                    load(org_id, "devices", p.start_ms, p.end_ms),
                )
            return
        for w_first, w_last in day_windows(first, last):
            start, end = range_ms(w_first, w_last)
            if report == "concurrent_usage":
                yield from concurrent_usage_rows(
                    w_first, w_last, load(org_id, "logins", start, end)
                )
            elif report == "user_hours":
                yield from user_hours_rows(w_first, w_last, load(org_id, "logins", start, end))
            elif report == "resources_usage":
                yield from resources_usage_rows(
                    w_first, w_last, load(org_id, "resources", start, end)
                )
            else:
                calls = load(org_id, "calls", start, end)
                yield from voice_usage_rows(w_first, w_last, calls, with_cost)
