"""DynamoDB items (PynamoDB). Key schemas mirror template.yaml, which is where they are declared.

Table names come from Settings at cold start (`bind`), so importing this module needs nothing.
"""

from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    NumberAttribute,
    NumberSetAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.indexes import (
    AllProjection,
    GlobalSecondaryIndex,
    KeysOnlyProjection,
    LocalSecondaryIndex,
)
from pynamodb.models import Model

from .settings import Settings

DUE_SHARD = "due"  # every org with something ahead of it sits in this one GSI partition


class DueIndex(GlobalSecondaryIndex):
    """Orgs by the first date something is due: the daily run's Query (never a Scan)."""

    class Meta:
        index_name = "due-index"
        projection = KeysOnlyProjection()

    due_shard = UnicodeAttribute(hash_key=True)
    next_due = UnicodeAttribute(range_key=True)


class OrgItem(Model):
    """An org: its contract in force and the bookkeeping of what has been issued."""

    class Meta:
        table_name = "OrgsTable"

    org_id = UnicodeAttribute(hash_key=True)
    contract = UnicodeAttribute()  # the contract JSON as uploaded (validated)
    contract_key = UnicodeAttribute(null=True)
    contract_version = UnicodeAttribute(null=True)
    contract_seq = UnicodeAttribute(null=True)  # the upload order of the contract in force
    due_shard = UnicodeAttribute(null=True)
    next_due = UnicodeAttribute(null=True)
    due_index = DueIndex()
    invoice_seq = NumberAttribute(default=0)
    closed_periods = NumberAttribute(default=0)
    opened = BooleanAttribute(default=False)
    billed_charges = UnicodeSetAttribute(null=True)
    converted_from_trial = BooleanAttribute(default=False)
    late_periods = NumberSetAttribute(null=True)  # closed periods with late usage (R-ingest-4)
    usage_marks = NumberAttribute(default=0)  # bumped by every stored batch: a close sees them all


class IssueDateIndex(LocalSecondaryIndex):
    class Meta:
        index_name = "issue-date-index"
        projection = AllProjection()

    org_id = UnicodeAttribute(hash_key=True)
    issue_date = UnicodeAttribute(range_key=True)


class PdfPendingIndex(GlobalSecondaryIndex):
    """Issued invoices whose PDF is not stored yet (sparse): the daily run's repair Query."""

    class Meta:
        index_name = "pdf-pending-index"
        projection = KeysOnlyProjection()

    pdf_pending = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


PDF_PENDING = "pending"


class LedgerItem(Model):
    """An issued invoice (`invoice#<number>`) or the record of a close (`close#<due key>`)."""

    class Meta:
        table_name = "LedgerTable"

    org_id = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    issue_date = UnicodeAttribute(null=True)  # invoices only: the LSI is sparse
    by_issue_date = IssueDateIndex()
    record = UnicodeAttribute(null=True)  # R-invoice-5 JSON
    document = UnicodeAttribute(null=True)  # what the PDF shows beyond the record (address, chart)
    pdf_key = UnicodeAttribute(null=True)
    pdf_pending = UnicodeAttribute(null=True)  # PDF_PENDING until the PDF is attached
    by_pdf_pending = PdfPendingIndex()
    pdf_sha256 = UnicodeAttribute(null=True)
    number = UnicodeAttribute(null=True)
    issued_at = UnicodeAttribute(null=True)


class UsageBatch(Model):
    """One accepted usage upload, normalized into an S3 object; `seq` orders uploads."""

    class Meta:
        table_name = "UsageTable"

    pk = UnicodeAttribute(hash_key=True)  # "<org_id>#<kind>"
    seq = UnicodeAttribute(range_key=True)  # "<received instant ms, 15 digits>#<upload key>"
    object_key = UnicodeAttribute()
    first_ms = NumberAttribute()
    last_ms = NumberAttribute()
    rows = NumberAttribute()
    upload_key = UnicodeAttribute()
    upload_version = UnicodeAttribute()


class HeldUpload(Model):
    """A usage upload waiting for its org's first contract (or its deck) until the next daily
    run (R-ingest-7); kept in the usage table under one partition, ordered by upload."""

    class Meta:
        table_name = "UsageTable"

    pk = UnicodeAttribute(hash_key=True)  # HELD_PARTITION
    seq = UnicodeAttribute(range_key=True)  # the upload's seq: event time, key, version
    upload_key = UnicodeAttribute()
    upload_version = UnicodeAttribute()
    received_ms = NumberAttribute()


HELD_PARTITION = "held#"


class IngestionItem(Model):
    """R-ingest-5: one processed upload."""

    class Meta:
        table_name = "IngestionsTable"

    key = UnicodeAttribute(hash_key=True)
    version = UnicodeAttribute(range_key=True)
    status = UnicodeAttribute()  # accepted | rejected | received
    org_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute(null=True)
    rows = NumberAttribute(default=0)
    late_rows = NumberAttribute(default=0)
    errors = NumberAttribute(default=0)
    reason = UnicodeAttribute(null=True)
    report_key = UnicodeAttribute(null=True)
    received_at = UnicodeAttribute()
    processed_at = UnicodeAttribute()


MODELS: dict[type[Model], str] = {
    OrgItem: "orgs_table",
    LedgerItem: "ledger_table",
    UsageBatch: "usage_table",
    HeldUpload: "usage_table",
    IngestionItem: "ingestions_table",
}


def bind(settings: Settings) -> None:
    """Point every model at the deployment's tables (and a loopback endpoint when local)."""
    for model, attr in MODELS.items():
        model.Meta.table_name = getattr(settings, attr)
        model.Meta.region = settings.region
        model.Meta.host = settings.endpoint_url
        model._connection = None  # PynamoDB caches the connection per model
