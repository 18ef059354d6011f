"""Ingest one upload: validate it whole, store it normalized, leave an ingestion record
(section 4, R-contract-7/8, R-ingest-1..5, R-trial-1/2)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Hashable, Set
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..domain.books import Org
from ..domain.contract import MAX_CONTRACT_BYTES, Contract, parse_contract
from ..domain.decks import Pricer, deck_from_json, deck_to_json, read_deck
from ..domain.events import upload_fact
from ..domain.instants import date_ms, format_instant, ms_date
from ..domain.issuer import ISSUER_KEY, MAX_ISSUER_BYTES, parse_issuer
from ..domain.money import CURRENCIES
from ..domain.periods import billing_period, closed_periods_touched
from ..domain.ports import (
    ContractSuperseded,
    ContractUpdate,
    Documents,
    Events,
    HeldUploads,
    IngestionLog,
    Orgs,
    Spool,
    Upload,
    Uploads,
    UsageSource,
    VectorBatch,
    VectorizedReader,
)
from ..domain.problems import Rejected
from ..domain.schedule import OrgState, next_due, trial_expiry
from ..domain.usage import FileSummary, UsageRow, parse_usage_key, read_usage
from ..domain.usage_kinds import USAGE_KINDS

ATTEMPTS = 3
MAX_KEY_BYTES = 512  # R-ingest-6: longer keys are rejected, their report filed by digest
_CONTRACT_KEY = re.compile(r"contracts/(?P<org>[^/]+)\.json")
_RATES_KEY = re.compile(
    r"rates/(?P<region>[a-z]{2}(-[a-z]+)+-\d)/(?P<currency>[A-Z]{3})/(?P<direction>outbound|inbound)\.csv"
)


class _Hold(Exception):
    """What a usage upload waits for until the next daily run (R-ingest-7)."""


@dataclass(frozen=True)
class Outcome:
    status: str  # accepted | rejected | held | duplicate
    rows: int = 0
    late_rows: int = 0
    reason: str | None = None


class IngestJob:
    def __init__(
        self,
        orgs: Orgs,
        usage: UsageSource,
        uploads: Uploads,
        documents: Documents,
        ingestions: IngestionLog,
        held: HeldUploads,
        events: Events | None = None,
        vectorized: VectorizedReader | None = None,
    ):
        self.orgs = orgs
        self.usage = usage
        self.uploads = uploads
        self.documents = documents
        self.ingestions = ingestions
        self.held = held
        self.events = events
        self.vectorized = vectorized  # the fast path of usage uploads (issue 8)

    def __call__(self, upload: Upload) -> Outcome:
        if self.ingestions.status(upload):  # R-ingest-3: the same event twice changes nothing
            return Outcome("duplicate")
        try:
            return self._process(upload, may_hold=True)
        except _Hold as hold:  # R-ingest-7: waits for the next daily run
            self.held.hold(upload)
            outcome = Outcome("held", reason=str(hold))
            self.ingestions.record(upload, _entry(upload, outcome, 0, None))
            return outcome

    def release(self, upload: Upload) -> Outcome:
        """The daily run's turn for a held upload: processed now, or rejected for good."""
        status = self.ingestions.status(upload)
        outcome = Outcome(status) if status and status != "held" else None
        if outcome is None:  # not finished before (a crash may have stopped a release)
            outcome = self._process(upload, may_hold=False)
        self.held.release(upload)
        return outcome

    def _process(self, upload: Upload, may_hold: bool) -> Outcome:
        try:
            outcome = self._ingest(upload, may_hold)
            report_key = None
        except Rejected as rejected:
            report_key = self._report(upload, rejected)
            outcome = Outcome("rejected", reason=rejected.problems[0].message)
            errors = len(rejected.problems) + rejected.more
        else:
            errors = 0
        entry = _entry(upload, outcome, errors, report_key)
        # R-ops-1: published before the record, so a crash in between publishes again on the
        # retry, with the same event id; once recorded, the upload is never processed again.
        self._publish(upload, entry)
        self.ingestions.record(upload, entry)
        return outcome

    def _publish(self, upload: Upload, entry: dict) -> None:
        if self.events is None or entry["status"] not in ("accepted", "rejected"):
            return
        contract = _CONTRACT_KEY.fullmatch(upload.key)
        fact = upload_fact(
            entry["status"],
            upload.key,
            upload.version,
            entry["received_at"],
            entry["org_id"] or (contract["org"] if contract else None),
            entry["rows"],
            entry["late_rows"],
            entry["errors"],
            entry["reason"],
            entry["report_key"],
        )
        self.events.publish(*fact)

    def _ingest(self, upload: Upload, may_hold: bool) -> Outcome:
        if len(upload.key.encode()) > MAX_KEY_BYTES:  # R-ingest-6
            raise Rejected.one(f"an upload key is at most {MAX_KEY_BYTES} bytes: {upload.key}")
        if m := _CONTRACT_KEY.fullmatch(upload.key):
            return self._contract(upload, m["org"])
        if usage := parse_usage_key(upload.key):
            return self._usage(upload, usage.org_id, usage.kind, usage.gzipped, may_hold)
        if m := _RATES_KEY.fullmatch(upload.key):
            return self._deck(upload, m["region"], m["currency"], m["direction"])
        if m := ISSUER_KEY.fullmatch(upload.key):
            return self._issuer(upload, m["currency"])
        raise Rejected.one(f"unknown upload key {upload.key!r}: not a place listed in SPEC 4.1")

    def _contract(self, upload: Upload, org_id: str) -> Outcome:
        if self.uploads.size(upload) > MAX_CONTRACT_BYTES:
            raise Rejected.one(f"contract is larger than {MAX_CONTRACT_BYTES} bytes")
        contract, terms = parse_contract(self.uploads.open(upload).read(), org_id)
        for _attempt in range(ATTEMPTS):
            existing = self.orgs.get(org_id)
            in_force = existing.revision.contract_seq if existing else None
            if in_force is not None and in_force >= upload.seq:  # R-ingest-7
                return Outcome("accepted", rows=1, reason="a contract uploaded later is in force")
            converting = _check_change(existing, contract, upload)
            state = existing.state if existing else OrgState()
            if converting:  # R-trial-2: nothing of the trial is billed; periods anchor anew
                state = OrgState(converted_from_trial=True)
            update = ContractUpdate(
                contract,
                terms,
                upload,
                state,
                next_due(contract, state),
                converting,
                previous=existing.state if existing else None,
            )
            try:
                self.orgs.save_contract(update)
            except ContractSuperseded:
                continue  # a later contract or a close got there first: look again
            return Outcome("accepted", rows=1)
        raise RuntimeError(f"{upload.key}: the org kept changing; retried later")

    def _issuer(self, upload: Upload, currency: str | None) -> Outcome:
        """R-pdf-3: the seller on invoices issued from now on (per currency, or in general);
        kept under its upload order, so the latest upload wins whichever is processed last."""
        if self.uploads.size(upload) > MAX_ISSUER_BYTES:
            raise Rejected.one(f"an issuer file is at most {MAX_ISSUER_BYTES} bytes")
        issuer = parse_issuer(self.uploads.open(upload).read(), currency)
        self.documents.put_issuer(currency, upload, issuer)
        return Outcome("accepted", rows=1)

    def _deck(self, upload: Upload, region: str, currency: str, direction: str) -> Outcome:
        """R-deck-1: a deck replaces the previous one whole, for calls ingested from now on."""
        if currency not in CURRENCIES:
            raise Rejected.one(f"rate decks are per accepted currency, not {currency!r}")
        deck = read_deck(self.uploads.open(upload), direction)
        self.documents.put_deck(region, currency, direction, upload.seq, deck_to_json(deck))
        return Outcome("accepted", rows=len(deck.rows))

    def _pricer(self, contract: Contract, upload: Upload, may_hold: bool) -> Pricer:
        """The org's decks in force at the calls' upload: the last uploaded before it (R-deck-1,
        R-ingest-7). While a deck of the org's region and currency is still on its way, the
        file waits for the next daily run; a calls file without any deck then is rejected."""
        region, currency = contract.region, contract.currency
        if may_hold and self._decks_in_flight(region, currency):
            raise _Hold(f"a rate deck for {region}/{currency} is still being processed")
        decks = {
            direction: self.documents.get_deck(region, currency, direction, before=upload.seq)
            for direction in ("outbound", "inbound")
        }
        if not any(decks.values()):
            if may_hold:
                raise _Hold(f"no rate deck for {contract.region}/{contract.currency} yet")
            raise Rejected.one(
                f"no rate deck for {contract.region}/{contract.currency}: calls cannot be priced "
                "(R-deck-1)"
            )
        outbound, inbound = (deck_from_json(d) if d else None for d in decks.values())
        return Pricer(outbound, inbound)

    def _decks_in_flight(self, region: str, currency: str) -> bool:
        """Whether a deck upload of this region and currency has no ingestion record yet."""
        versions = self.uploads.versions(f"rates/{region}/{currency}/")
        return any(self.ingestions.status(Upload(k, v, 0)) is None for k, v in versions)

    def _usage(
        self, upload: Upload, org_id: str, kind: str, gzipped: bool, may_hold: bool
    ) -> Outcome:
        org = self.orgs.get(org_id)
        if org is None and may_hold:
            raise _Hold(f"no contract for {org_id!r} yet")
        if org is None:
            raise Rejected.one(f"unknown org {org_id!r}: no contract has been uploaded")
        expiry = trial_expiry(org.contract)
        if expiry is not None and upload.received_ms >= date_ms(expiry):
            raise Rejected.one(f"the trial of {org_id} expired on {expiry.isoformat()} (R-trial-1)")
        late = _Late(org, _closed_through_ms(org))
        if fast := self._vectorized(upload, org, kind, gzipped, late):
            return fast
        spool = self.usage.spool()
        identities: set = set()  # only kept once a period is closed: corrections may move rows

        def keep(row: UsageRow) -> None:
            spool.add(row)
            if late.closed:
                identities.add(row.identity)
            late.mark(row)

        parse = USAGE_KINDS[kind].parser(_Reading(self, org.contract, upload, may_hold))
        try:
            summary = read_usage(kind, self.uploads.open(upload), gzipped, keep, parse=parse)
            return self._store(org, kind, upload, spool, summary, identities, late)
        finally:
            spool.close()

    def _vectorized(
        self, upload: Upload, org: Org, kind: str, gzipped: bool, late: _Late
    ) -> Outcome | None:
        """The whole file validated and stored at once (issue 8), with the late marks of the row
        by row path; None when the vectorized reader is not sure: that path decides."""
        if self.vectorized is None or kind not in self.vectorized.kinds:
            return None
        raw = self.uploads.open(upload)
        batch = self.vectorized.read(kind, raw, gzipped, upload.seq, late.closed_through)
        if batch is None:
            return None
        try:
            for row in batch.late:  # only the rows that start before closed_through
                late.mark(row)
            identities = batch.identities if late.closed else frozenset()
            return self._store(org, kind, upload, batch, batch.summary, identities, late)
        finally:
            batch.close()

    def _store(
        self,
        org: Org,
        kind: str,
        upload: Upload,
        rows: Spool | VectorBatch,
        summary: FileSummary,
        identities: Set[Hashable],
        late: _Late,
    ) -> Outcome:
        """Store a valid upload and mark the closed periods it changes (R-ingest-4/8)."""
        if summary.rows:
            late.identities |= self._moved_out(
                org, kind, identities, late.closed_through, late.periods
            )
            self.usage.save_batch(org.org_id, kind, upload, rows, summary)
            self._note_usage(org, summary, late.periods)
        return Outcome("accepted", rows=summary.rows, late_rows=len(late.identities))

    def _moved_out(
        self,
        org: Org,
        kind: str,
        identities: Set[Hashable],
        closed_through: int,
        late: set[int],
    ) -> set:
        """R-ingest-8: the closed periods the stored versions of these rows touched are late too
        (a correction can move usage out of a period as well as into one). Returns the
        identities whose old version lay in a closed period."""
        activation, closed = org.contract.activation_date, org.state.closed_periods
        moved = set()
        for old in self.usage.stored_versions(org.org_id, kind, identities, closed_through):
            touched = closed_periods_touched(activation, closed, *old.span)
            if touched:
                late.update(touched)
                moved.add(old.identity)
        return moved

    def _note_usage(self, org: Org, summary: FileSummary, late: set[int]) -> None:
        """Mark the late periods; if a close finished while this file was read, the periods
        it closed are late too wherever the file touches them."""
        org_id, closed = org.contract.org_id, org.state.closed_periods
        now_closed = self.orgs.note_usage(org_id, late)
        if now_closed > closed and summary.first_ms is not None and summary.last_ms is not None:
            touched = closed_periods_touched(
                org.contract.activation_date, now_closed, summary.first_ms, summary.last_ms
            )
            raced = {k for k in touched if k >= closed}
            if raced:
                self.orgs.note_usage(org_id, raced)

    def _report(self, upload: Upload, rejected: Rejected) -> str:
        """R-ingest-1: every problem (up to 1,000, then a count of the rest)."""
        report: dict[str, object] = {
            "key": upload.key,
            "version": upload.version,
            "received_at": format_instant(upload.received_ms),
            "errors": [p.as_json() for p in rejected.problems],
        }
        if rejected.more:
            report["more_errors"] = rejected.more
        return self.documents.put_rejection(_report_name(upload.key), report)


@dataclass
class _Late:
    """R-ingest-4: the rows of one upload that change a closed period, and those periods."""

    org: Org
    closed_through: int  # the end of the org's last closed period
    periods: set[int] = field(default_factory=set)
    identities: set = field(default_factory=set)

    @property
    def closed(self) -> int:
        return self.org.state.closed_periods

    def mark(self, row: UsageRow) -> None:
        if row.span[0] < self.closed_through:
            self.identities.add(row.identity)
            activation = self.org.contract.activation_date
            self.periods.update(closed_periods_touched(activation, self.closed, *row.span))


@dataclass(frozen=True)
class _Reading:
    """What a usage kind may ask while its upload is read (usage_kinds.IngestContext)."""

    job: IngestJob
    contract: Contract
    upload: Upload
    may_hold: bool

    def call_pricer(self) -> Pricer:
        return self.job._pricer(self.contract, self.upload, self.may_hold)


def _check_change(existing: Org | None, contract: Contract, upload: Upload) -> bool:
    """R-contract-8 and R-trial-2; returns whether the upload converts a trial to paid."""
    if existing is None:
        return False
    before = existing.contract
    if before.trial and not contract.trial:
        if contract.activation_date < ms_date(upload.received_ms):
            raise Rejected.one(
                "a converted trial's activation_date must be on or after the "
                "upload date (R-trial-2)",
                column="activation_date",
                value=contract.activation_date.isoformat(),
            )
        return True
    if existing.state.closed_periods > 0:
        for field in ("activation_date", "currency"):
            if getattr(before, field) != getattr(contract, field):
                raise Rejected.one(
                    f"{field} cannot change once a period has been closed (R-contract-8)",
                    column=field,
                    value=str(getattr(contract, field)),
                )
    return False


def _report_name(key: str) -> str:
    """rejections/<key>.json, or rejections/_long-keys/<sha256 of the key>.json (R-ingest-6)."""
    if len(key.encode()) <= MAX_KEY_BYTES:
        return key
    return f"_long-keys/{hashlib.sha256(key.encode()).hexdigest()}"


def _closed_through_ms(org: Org) -> int:
    """The end of the org's last closed period: usage before it is late (R-ingest-4)."""
    closed = org.state.closed_periods
    if not closed:
        return -(2**62)
    return billing_period(org.contract.activation_date, closed - 1).end_ms


def _entry(upload: Upload, outcome: Outcome, errors: int, report_key: str | None) -> dict:
    """R-ingest-5: key, version, status, row counts, late rows, timestamps."""
    usage = parse_usage_key(upload.key)
    return {
        "status": outcome.status,
        "org_id": usage.org_id if usage else None,
        "kind": usage.kind if usage else None,
        "rows": outcome.rows,
        "late_rows": outcome.late_rows,
        "errors": errors,
        "reason": outcome.reason,
        "report_key": report_key,
        "received_at": format_instant(upload.received_ms),
        "processed_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
