"""In-memory fakes of every port (cxbill.domain.ports), for the jobs' unit tests.

They keep the promises the ports make — an issue is all or nothing and only if the org is still
as read, the latest upload of an identity wins, a spool is stored only when saved — in plain
dicts, so a job's test runs in microseconds and never touches the network."""

from __future__ import annotations

import hashlib
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import IO, Any

from cxbill.domain.books import AlreadyIssued, CloseRecord, Issue, IssuedInvoice, Org, Revision
from cxbill.domain.contract import contract_from_json
from cxbill.domain.issuer import Issuer
from cxbill.domain.ports import ContractSuperseded, ContractUpdate, SignedUrl, Upload
from cxbill.domain.problems import Rejected
from cxbill.domain.schedule import Due, OrgState
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import FileSummary, read_usage
from cxbill.domain.usage_kinds import USAGE_KINDS
from cxbill.domain.usage_kinds.tally import Tally


@dataclass
class _OrgRow:
    terms: Mapping[str, Any]
    contract_version: str
    state: OrgState = field(default_factory=OrgState)
    next_due: date | None = None
    invoice_seq: int = 0
    late_periods: set[int] = field(default_factory=set)
    usage_marks: int = 0
    contract_seq: str | None = None


class FakeOrgs:
    def __init__(self) -> None:
        self.rows: dict[str, _OrgRow] = {}

    def get(self, org_id: str) -> Org | None:
        row = self.rows.get(org_id)
        if row is None:
            return None
        return Org(
            contract_from_json(dict(row.terms)),
            row.terms,
            row.state,
            frozenset(row.late_periods),
            row.invoice_seq,
            Revision(row.usage_marks, row.contract_version, row.contract_seq),
        )

    def save_contract(self, update: ContractUpdate) -> None:
        org_id = update.contract.org_id
        row = self.rows.get(org_id)
        if row is not None and (
            (row.contract_seq or "") >= update.upload.seq or row.state != update.previous
        ):
            raise ContractSuperseded(update.upload.seq)
        if row is None:
            row = self.rows[org_id] = _OrgRow(update.terms, update.upload.version)
        row.terms, row.contract_version = update.terms, update.upload.version
        row.contract_seq = update.upload.seq
        if update.converted_from_trial:
            row.state = OrgState(converted_from_trial=True)
        row.next_due = update.next_due

    def due_by(self, day: date) -> list[tuple[str, date]]:
        due = [(row.next_due, org_id) for org_id, row in self.rows.items() if row.next_due]
        return [(org_id, when) for when, org_id in sorted(due) if when <= day]

    def note_usage(self, org_id: str, late: set[int]) -> int:
        row = self.rows[org_id]
        row.usage_marks += 1
        row.late_periods |= late
        return row.state.closed_periods


class FakeLedger:
    def __init__(self, orgs: FakeOrgs) -> None:
        self.orgs = orgs
        self.invoices: dict[tuple[str, str], IssuedInvoice] = {}
        self.closes: dict[tuple[str, str], CloseRecord] = {}

    def issue(self, org: Org, issue: Issue) -> None:
        row = self.orgs.rows[org.org_id]
        if self._changed(org, row) or (org.org_id, issue.close_key) in self.closes:
            raise AlreadyIssued(issue.close_key)
        if issue.document is not None:
            number = issue.document.invoice.number
            assert (org.org_id, number) not in self.invoices
            self.invoices[(org.org_id, number)] = IssuedInvoice(issue.document)
            row.invoice_seq += 1
        self.closes[(org.org_id, issue.close_key)] = issue.close_record
        for index, record in issue.adjusted.items():
            self.closes[(org.org_id, record.due)] = record
            row.late_periods.discard(index)
        row.state, row.next_due = issue.state, issue.next_due

    @staticmethod
    def _changed(org: Org, row: _OrgRow) -> bool:
        read = (org.state, org.invoice_seq, org.revision)
        revision = Revision(row.usage_marks, row.contract_version, row.contract_seq)
        now = (row.state, row.invoice_seq, revision)
        return read != now

    def close_record(self, org_id: str, close_key: str) -> CloseRecord | None:
        return self.closes.get((org_id, close_key))

    def invoice(self, org_id: str, number: str) -> IssuedInvoice | None:
        return self.invoices.get((org_id, number))

    def issued_on(self, org_id: str, day: date) -> list[IssuedInvoice]:
        return self.issued_between(org_id, day, day)

    def issued_between(self, org_id: str, first: date, last: date) -> list[IssuedInvoice]:
        found = [
            issued
            for (org, _), issued in self.invoices.items()
            if org == org_id and first <= issued.invoice.issue_date <= last
        ]
        return sorted(found, key=lambda i: (i.invoice.issue_date, i.invoice.number), reverse=True)

    def pdf_pending(self) -> list[IssuedInvoice]:
        return [issued for issued in self.invoices.values() if not issued.pdf_key]

    def attach_pdf(self, org_id: str, number: str, key: str, sha256: str) -> None:
        issued = self.invoices[(org_id, number)]
        self.invoices[(org_id, number)] = replace(issued, pdf_key=key, pdf_sha256=sha256)


class FakeSpool:
    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.closed = False

    def add(self, row: Any) -> None:
        self.rows.append(row)

    def close(self) -> None:
        self.closed = True


class FakeUsage:
    """Batches by (org, kind), in upload order; a read returns the latest version of each
    identity whose span touches the window."""

    def __init__(self) -> None:
        self.batches: dict[tuple[str, str], dict[str, list[Any]]] = defaultdict(dict)

    def spool(self) -> FakeSpool:
        return FakeSpool()

    def save_batch(
        self, org_id: str, kind: str, upload: Upload, spool: FakeSpool, summary: FileSummary
    ) -> None:
        self.batches[(org_id, kind)][upload.seq] = list(spool.rows)

    def stored_versions(self, org_id: str, kind: str, identities, before_ms: int) -> list[Any]:
        return [
            row
            for rows in self.batches[(org_id, kind)].values()
            for row in rows
            if row.identity in identities and row.span[0] < before_ms
        ]

    def load(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> list[Any]:
        latest: dict[Any, Any] = {}
        for seq in sorted(self.batches[(org_id, kind)]):
            for row in self.batches[(org_id, kind)][seq]:
                latest[row.identity] = row
        return [r for r in latest.values() if r.span[0] < end_ms and r.span[1] >= start_ms]

    @contextmanager
    def sessions(
        self, org_id: str, start_ms: int, end_ms: int, emails: bool = False
    ) -> Iterator[SessionRows]:
        yield SessionRows.of(self.load(org_id, "logins", start_ms, end_ms), start_ms, end_ms)

    def tally(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> list[Tally]:
        spec = USAGE_KINDS[kind].tally
        assert spec is not None
        return spec.of_rows(self.load(org_id, kind, start_ms, end_ms), start_ms, end_ms)


@dataclass
class FakeVectorBatch:
    """ports.VectorBatch over rows the exact reader read (FakeUsage.save_batch stores `rows`)."""

    summary: FileSummary
    rows: list[Any]
    late: list[Any]
    identities: frozenset
    closed: bool = False

    def close(self) -> None:
        self.closed = True


class FakeVectorizedReader:
    """ports.VectorizedReader. By default never sure, so the jobs' tests take the exact row by
    row path; `sure=True` returns what the exact reader accepts as a vectorized batch (a
    rejected file: not sure), so a test can run the job's fast branch on the same files."""

    def __init__(self, sure: bool = False, kinds: Iterable[str] = ("logins",)) -> None:
        self.sure = sure
        self.kinds = frozenset(kinds)
        self.batches: list[FakeVectorBatch] = []

    def read(
        self, kind: str, raw: IO[bytes], gzipped: bool, seq: str, late_before_ms: int
    ) -> FakeVectorBatch | None:
        if not self.sure:
            return None
        rows: list[Any] = []
        try:
            summary = read_usage(kind, raw, gzipped, rows.append)
        except Rejected:
            return None
        late = [row for row in rows if row.span[0] < late_before_ms]
        batch = FakeVectorBatch(summary, rows, late, frozenset(row.identity for row in rows))
        self.batches.append(batch)
        return batch


class FakeUploads:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def put(self, key: str, body: bytes | str, version: str = "v1") -> None:
        self.objects[(key, version)] = body.encode() if isinstance(body, str) else body

    def size(self, upload: Upload) -> int:
        return len(self.objects[(upload.key, upload.version)])

    def open(self, upload: Upload) -> IO[bytes]:
        return io.BytesIO(self.objects[(upload.key, upload.version)])

    def versions(self, prefix: str) -> list[tuple[str, str]]:
        return [(key, version) for key, version in self.objects if key.startswith(prefix)]


class FakeDocuments:
    def __init__(self) -> None:
        self.objects: dict[str, Any] = {}
        self.issuers: dict[str | None, dict[str, Issuer]] = {}

    def put_rejection(self, name: str, report: Mapping[str, Any]) -> str:
        key = f"rejections/{name}.json"
        self.objects[key] = dict(report)
        return key

    def put_pdf(self, org_id: str, number: str, pdf: bytes) -> tuple[str, str]:
        key = f"invoices/{org_id}/{number}.pdf"
        self.objects[key] = pdf
        return key, hashlib.sha256(pdf).hexdigest()

    def put_report(self, org_id: str, report: str, first: date, last: date, csv: IO[bytes]) -> str:
        key = f"reports/{org_id}/{report}/{first}_{last}.csv"
        self.objects[key] = csv.read()
        return key

    def put_deck(self, region: str, currency: str, direction: str, seq: str, deck: Mapping) -> None:
        self.objects[f"decks/{region}/{currency}/{direction}/{seq}"] = dict(deck)

    def get_deck(self, region: str, currency: str, direction: str, before: str) -> Mapping | None:
        prefix = f"decks/{region}/{currency}/{direction}/"
        seqs = [k for k in self.objects if k.startswith(prefix) and k[len(prefix) :] < before]
        return self.objects[max(seqs)] if seqs else None

    def signed_url(self, key: str, now: datetime) -> SignedUrl:
        return SignedUrl(f"https://documents.example/{key}?signed", now + timedelta(seconds=300))

    def put_issuer(self, currency: str | None, upload: Upload, issuer: Issuer) -> None:
        """Each upload kept under its upload order (R-pdf-3, R-ingest-7)."""
        self.issuers.setdefault(currency, {})[upload.seq] = issuer

    def get_issuer(self, currency: str | None) -> Issuer | None:
        versions = self.issuers.get(currency)
        return versions[max(versions)] if versions else None


class FakeEvents:
    """The event bus: every publish in order, repeats included (a consumer drops them by id)."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, detail_type: str, detail: Mapping[str, Any], event_id: str) -> None:
        detail = {**detail, "event_id": event_id}
        self.published.append({"source": "cxbill", "detail-type": detail_type, "detail": detail})

    def facts(self, detail_type: str | None = None) -> list[dict[str, Any]]:
        """The details published, each event id once, in first-published order."""
        seen: dict[str, dict[str, Any]] = {}
        for event in self.published:
            if detail_type is None or event["detail-type"] == detail_type:
                seen.setdefault(event["detail"]["event_id"], event["detail"])
        return list(seen.values())


class FakeIngestionLog:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}

    def status(self, upload: Upload) -> str | None:
        entry = self.entries.get((upload.key, upload.version))
        return entry["status"] if entry else None

    def record(self, upload: Upload, entry: Mapping[str, Any]) -> None:
        self.entries[(upload.key, upload.version)] = dict(entry)


class FakeCloseQueue:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send(self, dues: Iterable[Due], run_date: date) -> None:
        self.sent += [due.as_message(run_date) for due in dues]


class FakeHeldUploads:
    def __init__(self) -> None:
        self.held: dict[str, Upload] = {}

    def hold(self, upload: Upload) -> None:
        self.held[upload.seq] = upload

    def held_before(self, ms: int) -> list[Upload]:
        return [self.held[s] for s in sorted(self.held) if self.held[s].received_ms < ms]

    def release(self, upload: Upload) -> None:
        self.held.pop(upload.seq, None)
