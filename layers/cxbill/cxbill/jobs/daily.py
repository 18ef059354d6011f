"""The daily run: release the uploads held for it, find the orgs with something due by key and
send one close message per thing due (section 9), and ask again for any invoice PDF still
missing. Its work grows with what is due and held, never with users or usage. One org failing
never stops the others (R-ops-2)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from ..domain.instants import date_ms
from ..domain.ports import CloseQueue, HeldUploads, Ledger, Orgs
from ..domain.schedule import Due, due_on
from .ingest import IngestJob

RUN_AT_MS = 30 * 60_000  # the schedule fires at 00:30 UTC
log = logging.getLogger(__name__)


@dataclass
class DailyRun:
    """What one run did: close messages sent, held uploads released, and what failed (those
    are logged, counted in a metric, and retried by the next run)."""

    sent: int = 0
    released: int = 0
    pdf_repairs: int = 0
    oldest_due: date | None = None  # the longest-waiting org's due date (an alarm past 24 h)
    failed_orgs: list[str] = field(default_factory=list)
    failed_uploads: list[str] = field(default_factory=list)


class DailyJob:
    def __init__(
        self, orgs: Orgs, ledger: Ledger, queue: CloseQueue, held: HeldUploads, ingest: IngestJob
    ):
        self.orgs = orgs
        self.ledger = ledger
        self.queue = queue
        self.held = held
        self.ingest = ingest

    def __call__(self, today: date) -> DailyRun:
        run = DailyRun()
        self._release_held(today, run)
        due = self.orgs.due_by(today)
        run.oldest_due = min((since for _, since in due), default=None)
        for org_id, _since in due:
            try:
                run.sent += self._send_dues(org_id, today)
            except Exception:  # a poison org: the others go on (R-ops-2)
                log.exception("daily run failed for org %s", org_id)
                run.failed_orgs.append(org_id)
        self._repair_pdfs(today, run)
        return run

    def _repair_pdfs(self, today: date, run: DailyRun) -> None:
        """Every issued invoice still without a PDF gets a close message that renders it."""
        days = {(i.invoice.org_id, i.invoice.issue_date) for i in self.ledger.pdf_pending()}
        repairs = [Due(org_id, "pdf", day) for org_id, day in sorted(days)]
        self.queue.send(repairs, today)
        run.pdf_repairs = len(repairs)

    def _release_held(self, today: date, run: DailyRun) -> None:
        """R-ingest-7: usage held for its org's contract is processed, or rejected, now."""
        for upload in self.held.held_before(date_ms(today) + RUN_AT_MS):
            try:
                self.ingest.release(upload)
                run.released += 1
            except Exception:
                log.exception("releasing held upload %s failed", upload.key)
                run.failed_uploads.append(upload.key)

    def _send_dues(self, org_id: str, today: date) -> int:
        org = self.orgs.get(org_id)
        if org is None:
            return 0
        dues = due_on(org.contract, org.state, today)
        self.queue.send(dues, today)
        return len(dues)
