"""The ports: what the jobs need from the outside world, in domain types (typing.Protocol).

The domain owns them; adapters implement them (DynamoDB, S3, SQS) and tests fake them
(tests/fakes.py). A job receives its ports through its constructor; `jobs/wiring.py` builds the
real ones once per cold start."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence, Set
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any, Protocol

from .books import CloseRecord, Issue, IssuedInvoice, Org
from .contract import Contract
from .issuer import Issuer
from .schedule import Due, OrgState
from .sessions import BillableSessions
from .usage import FileSummary, UsageRow
from .usage_kinds.tally import Tally


@dataclass(frozen=True)
class Upload:
    """An object created in the upload bucket, as its S3 event names it."""

    key: str
    version: str
    received_ms: int  # the event time: uploads are ordered by it (latest wins, R-ingest-3)

    @property
    def seq(self) -> str:
        """Upload order: event time, then key, then version (R-ingest-3, R-ingest-7)."""
        return f"{self.received_ms:015d}#{self.key}#{self.version}"


@dataclass(frozen=True)
class SignedUrl:
    """R-api-2: a presigned GET of exactly one object and when it stops working."""

    url: str
    expires_at: datetime

    def as_json(self) -> dict[str, str]:
        return {"url": self.url, "expires_at": self.expires_at.isoformat().replace("+00:00", "Z")}


@dataclass(frozen=True)
class ContractUpdate:
    """A validated contract to put in force, and the org's bookkeeping that goes with it."""

    contract: Contract
    terms: Mapping[str, Any]
    upload: Upload
    state: OrgState  # unchanged, or reset by a trial's conversion (R-trial-2)
    next_due: date | None
    converted_from_trial: bool = False
    previous: OrgState | None = None  # the bookkeeping as read (None: a new org)


class ContractSuperseded(Exception):
    """A contract uploaded later is already in force, or the org moved on while this one was
    planned (R-ingest-7): nothing was written."""


class Orgs(Protocol):
    def get(self, org_id: str) -> Org | None:
        """The org as stored now (a strongly consistent read)."""

    def save_contract(self, update: ContractUpdate) -> None: ...

    def due_by(self, day: date) -> list[tuple[str, date]]:
        """The orgs with something due on or before `day`, and since when (by key, never a
        Scan), oldest first."""

    def note_usage(self, org_id: str, late: set[int]) -> int:
        """Count a stored batch and mark `late` periods; returns how many periods are closed."""


class Ledger(Protocol):
    def issue(self, org: Org, issue: Issue) -> None:
        """Write `issue` atomically if `org` is still as read; else raise AlreadyIssued."""

    def close_record(self, org_id: str, close_key: str) -> CloseRecord | None: ...

    def invoice(self, org_id: str, number: str) -> IssuedInvoice | None: ...

    def issued_on(self, org_id: str, day: date) -> list[IssuedInvoice]: ...

    def issued_between(self, org_id: str, first: date, last: date) -> list[IssuedInvoice]: ...

    def attach_pdf(self, org_id: str, number: str, key: str, sha256: str) -> None: ...

    def pdf_pending(self) -> list[IssuedInvoice]:
        """Every issued invoice still without a PDF (by key, never a Scan)."""


class Spool(Protocol):
    """Where the rows of one upload go while it is validated: stored only if all are valid."""

    def add(self, row: UsageRow) -> None: ...

    def close(self) -> None: ...


class VectorBatch(Protocol):
    """A usage upload validated whole and written as its normalized batch in one pass (issue 8):
    what the ingest needs of it besides storing it (UsageSource.save_batch)."""

    @property
    def summary(self) -> FileSummary: ...

    @property
    def late(self) -> Iterable[UsageRow]:
        """Only the rows whose span starts before the `late_before_ms` asked for (R-ingest-4)."""

    @property
    def identities(self) -> Set[Hashable]:
        """Every row's identity (R-ingest-8), for stored_versions: kept where the batch is."""

    def close(self) -> None: ...


class VectorizedReader(Protocol):
    """The fast path of a usage upload (issue 8): the whole file validated and normalized at
    once, or None when not sure. It may be stricter than domain/usage.read_usage, never looser:
    a file it returns, read_usage accepts with the same rows; on None the ingest runs read_usage,
    which accepts or rejects with its report and line numbers (R-ingest-1)."""

    @property
    def kinds(self) -> frozenset[str]:
        """The usage kinds it reads; the others always take the row by row path."""

    def read(
        self, kind: str, raw: IO[bytes], gzipped: bool, seq: str, late_before_ms: int
    ) -> VectorBatch | None: ...


class UsageSource(Protocol):
    def spool(self) -> Spool: ...

    def save_batch(
        self,
        org_id: str,
        kind: str,
        upload: Upload,
        spool: Spool | VectorBatch,
        summary: FileSummary,
    ) -> None:
        """Store one upload's rows (spooled, or a vectorized batch); the same upload always
        overwrites its own batch."""

    def stored_versions(
        self, org_id: str, kind: str, identities: Set[Hashable], before_ms: int
    ) -> Iterable[Any]:
        """Stored versions of these identities whose batches touch time before `before_ms`."""

    def load(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> Sequence[Any]:
        """The latest version of every row of `kind` whose upload touched [start_ms, end_ms)."""

    def sessions(
        self, org_id: str, start_ms: int, end_ms: int, emails: bool = False
    ) -> AbstractContextManager[BillableSessions]:
        """The billable sessions (latest versions) overlapping [start_ms, end_ms), answering the
        license models' questions where they are stored (issue 8: no row per session). With
        `emails`, also who each user is (only reports ask: a close never pays for it)."""

    def tally(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> list[Tally]:
        """The kind's TallySpec groups of the latest versions in [start_ms, end_ms)."""


class Uploads(Protocol):
    """The upload bucket, read only."""

    def size(self, upload: Upload) -> int: ...

    def open(self, upload: Upload) -> IO[bytes]:
        """The upload's bytes as a stream: never read into memory whole."""

    def versions(self, prefix: str) -> list[tuple[str, str]]:
        """(key, version) of every object version under `prefix`."""


class Documents(Protocol):
    """The documents bucket: rejection reports, invoice PDFs, usage reports, rate decks."""

    def put_rejection(self, name: str, report: Mapping[str, Any]) -> str: ...

    def put_pdf(self, org_id: str, number: str, pdf: bytes) -> tuple[str, str]:
        """Store an invoice PDF; returns its key and SHA-256 (R-pdf-2)."""

    def put_report(
        self, org_id: str, report: str, first: date, last: date, csv: IO[bytes]
    ) -> str: ...

    def put_deck(self, region: str, currency: str, direction: str, seq: str, deck: Mapping) -> None:
        """Store the deck of the upload `seq`; every upload keeps its own."""

    def get_deck(self, region: str, currency: str, direction: str, before: str) -> Mapping | None:
        """The deck uploaded last before the upload `before` (upload order, R-ingest-7)."""

    def signed_url(self, key: str, now: datetime) -> SignedUrl: ...

    # -- the seller (R-pdf-3): each upload kept under its upload order; the latest one wins --
    def put_issuer(self, currency: str | None, upload: Upload, issuer: Issuer) -> None:
        """Keep `issuer` as uploaded by `upload` (`currency`: None for config/issuer.json)."""

    def get_issuer(self, currency: str | None) -> Issuer | None:
        """The issuer of the latest upload (by `Upload.seq`) for `currency`, or None."""


class Events(Protocol):
    """The project's event bus (R-ops-1): source `cxbill`, one detail type per fact."""

    def publish(self, detail_type: str, detail: Mapping[str, Any], event_id: str) -> None:
        """Publish one fact. `event_id` is the fact's own (the same fact always has the same
        id, carried in the detail), so a consumer drops a repeat after a retried handler."""


class IngestionLog(Protocol):
    """R-ingest-5: one record per processed upload."""

    def status(self, upload: Upload) -> str | None:
        """The recorded status of this upload (accepted, rejected, held), if any."""

    def record(self, upload: Upload, entry: Mapping[str, Any]) -> None: ...


class HeldUploads(Protocol):
    """R-ingest-7: usage uploads waiting for their org's contract until the next daily run."""

    def hold(self, upload: Upload) -> None: ...

    def held_before(self, ms: int) -> list[Upload]:
        """Every held upload whose event time is before `ms`, in upload order."""

    def release(self, upload: Upload) -> None: ...


class CloseQueue(Protocol):
    def send(self, dues: Iterable[Due], run_date: date) -> None: ...
