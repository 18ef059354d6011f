"""Wiring in one place: each job built once per cold start from the validated settings.
Importing this module needs no environment; tests and the local stand-in call `reset()`."""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from ..adapters.aws import clients
from ..adapters.models import bind
from ..adapters.settings import Settings


@cache
def settings() -> Settings:
    loaded = Settings.from_env()
    bind(loaded)
    return loaded


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
        table_name=s.idempotency_table, boto3_client=clients(s, "dynamodb")
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


@cache
def ingest_job():
    from .ingest import IngestJob

    return IngestJob(settings())


@cache
def close_job():
    from .close import CloseJob

    return CloseJob(settings())


@cache
def daily_job():
    from .daily import DailyJob

    return DailyJob(settings())


@cache
def invoice_desk():
    from .invoices import InvoiceDesk

    return InvoiceDesk(settings())


@cache
def report_desk():
    from .reports import ReportDesk

    return ReportDesk(settings())


def reset() -> None:
    """Forget every cached job and setting (a new environment: tests, the local stand-in)."""
    for factory in (
        settings,
        idempotency,
        ingest_job,
        close_job,
        daily_job,
        invoice_desk,
        report_desk,
    ):
        factory.cache_clear()
