"""Close messages (FIFO, one group per org): issue what is due, then its PDFs."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from cxbill.domain.schedule import Due
from cxbill.jobs import wiring

logger = Logger()
tracer = Tracer()
processor = SqsFifoPartialProcessor()  # stops at the first failure: numbers stay in order


def close(message: dict) -> str | None:
    number = wiring.close_job()(Due.from_message(message))
    logger.info("closed", extra={"due": message, "number": number})
    return number


def record_handler(record: SQSRecord) -> None:
    wiring.idempotent("[run_date, org_id, kind, issue_date, period_index]")(close)(
        message=record.json_body
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context) -> dict:
    return process_partial_response(event, record_handler, processor, context)
