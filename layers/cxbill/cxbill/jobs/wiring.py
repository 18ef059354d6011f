"""Wiring in one place: the adapters and every job built once per cold start from the validated
settings. Importing this module needs no environment; `reset()` forgets everything cached (a new
environment: tests, the local stand-in)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..adapters import aws
from ..adapters.documents import S3Documents, S3Uploads
from ..adapters.events import EventBridgeEvents
from ..adapters.ingestions import DynamoHeldUploads, DynamoIngestionLog
from ..adapters.ledger import DynamoLedger, DynamoOrgs
from ..adapters.models import bind
from ..adapters.pdf import render_invoice_pdf
from ..adapters.queues import SqsCloseQueue
from ..adapters.settings import Settings
from ..adapters.usage_store import S3UsageStore
from ..adapters.vectorized import DuckDBReader
from ..domain.books import InvoiceDocument
from .close import CloseJob
from .daily import DailyJob
from .ingest import IngestJob
from .invoices import InvoiceDesk
from .reports import ReportDesk


@dataclass(frozen=True)
class Adapters:
    """One of each port's AWS implementation."""

    orgs: DynamoOrgs
    ledger: DynamoLedger
    usage: S3UsageStore
    uploads: S3Uploads
    documents: S3Documents
    ingestions: DynamoIngestionLog
    held: DynamoHeldUploads
    close_queue: SqsCloseQueue
    events: EventBridgeEvents


@cache
def settings() -> Settings:
    loaded = Settings.from_env()
    bind(loaded)
    return loaded


@cache
def adapters() -> Adapters:
    s = settings()
    return Adapters(
        orgs=DynamoOrgs(),
        ledger=DynamoLedger(s),
        usage=S3UsageStore(s),
        uploads=S3Uploads(s),
        documents=S3Documents(s),
        ingestions=DynamoIngestionLog(),
        held=DynamoHeldUploads(),
        close_queue=SqsCloseQueue(s),
        events=EventBridgeEvents(s),
    )


@cache
def ingest_job() -> IngestJob:
    a = adapters()
    return IngestJob(
        a.orgs, a.usage, a.uploads, a.documents, a.ingestions, a.held, a.events, DuckDBReader()
    )


@cache
def close_job() -> CloseJob:
    a = adapters()
    return CloseJob(
        a.orgs,
        a.ledger,
        a.usage,
        a.documents,
        render_invoice_pdf,
        a.events,
        count_invoice_without_issuer,
    )


def count_invoice_without_issuer(_document: InvoiceDocument) -> None:
    """R-pdf-3: the operator's metric cxbill/InvoicesWithoutIssuer (alarmed in the template)."""
    if is_metrics_disabled():
        return
    metrics = Metrics(namespace="cxbill")
    metrics.add_metric(name="InvoicesWithoutIssuer", unit=MetricUnit.Count, value=1)
    metrics.flush_metrics()


@cache
def daily_job() -> DailyJob:
    a = adapters()
    return DailyJob(a.orgs, a.ledger, a.close_queue, a.held, ingest_job())


@cache
def invoice_desk() -> InvoiceDesk:
    a = adapters()
    return InvoiceDesk(a.orgs, a.ledger, a.usage, a.documents)


@cache
def report_desk() -> ReportDesk:
    a = adapters()
    return ReportDesk(a.orgs, a.usage, a.documents)


@cache
def idempotency(key_path: str) -> tuple[IdempotencyConfig, DynamoDBPersistenceLayer]:
    """Powertools idempotency for one operation, keyed by `key_path` of its message. Each
    operation gets its own persistence layer: a layer keeps the first config it is given."""
    s = settings()
    config = IdempotencyConfig(
        event_key_jmespath=key_path,
        expires_after_seconds=24 * 3600,
        raise_on_no_idempotency_key=True,
    )
    store = DynamoDBPersistenceLayer(
        table_name=s.idempotency_table, boto3_client=aws.clients(s, "dynamodb")
    )
    return config, store


def idempotent(key_path: str, operation, context=None):
    """`operation(message=...)` run at most once per key; `context` lets Powertools see the
    Lambda's remaining time."""
    config, store = idempotency(key_path)
    if context is not None:
        config.register_lambda_context(context)
    return idempotent_function(
        data_keyword_argument="message", config=config, persistence_store=store
    )(operation)


def reset() -> None:
    """Forget every cached setting, client, adapter and job."""
    for factory in (
        settings,
        adapters,
        idempotency,
        ingest_job,
        close_job,
        daily_job,
        invoice_desk,
        report_desk,
        aws.client,
    ):
        factory.cache_clear()
