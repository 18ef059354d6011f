"""Close messages (FIFO, one group per org): issue what is due, then its PDFs."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cxbill.jobs import wiring

logger = Logger()
tracer = Tracer()
# A failure stops its own org's group only (numbers stay in order; other orgs go on, R-ops-2).
processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def close(message: dict) -> str | None:
    number = wiring.close_job().close_message(message)
    logger.info("closed", extra={"due": message, "number": number})
    return number


# A close message's own id (what is due plus the run that sent it, as the queue deduplicates it).
MESSAGE_KEY = "id"


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    once = wiring.idempotent(MESSAGE_KEY, close, context)

    def record_handler(record: SQSRecord) -> None:
        once(message=record.json_body)

    return process_partial_response(event, record_handler, processor, context)
