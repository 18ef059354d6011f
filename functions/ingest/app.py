"""Upload bucket ObjectCreated events, through the ingest queue: validate, store, record."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cxbill.jobs import wiring
from cxbill.jobs.ingest import Upload

logger = Logger()
tracer = Tracer()
processor = BatchProcessor(event_type=EventType.SQS)


def uploads_in(s3_event: dict) -> list[Upload]:
    """The uploads an S3 notification names; S3's own test event names none."""
    uploads = []
    for record in s3_event.get("Records", []):
        obj = record["s3"]["object"]
        key = unquote_plus(obj["key"])  # S3 percent-encodes keys in events
        # A versioned bucket names the version; an unversioned one only the content's ETag.
        version = obj.get("versionId") or f"etag:{obj.get('eTag', '')}"
        when = datetime.fromisoformat(record["eventTime"].replace("Z", "+00:00"))
        uploads.append(Upload(key, version, int(when.timestamp() * 1000)))
    return uploads


def ingest(message: dict) -> dict:
    outcome = asdict(wiring.ingest_job()(Upload(**message)))
    logger.info("ingested", extra={"upload": message, "outcome": outcome})
    return outcome


# An upload is its key and version: the same S3 event delivered twice is ingested once (R-ingest-3).
MESSAGE_KEY = "[key, version]"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    once = wiring.idempotent(MESSAGE_KEY, ingest, context)

    def record_handler(record: SQSRecord) -> None:
        for upload in uploads_in(record.json_body):
            once(message=asdict(upload))

    return process_partial_response(event, record_handler, processor, context)
