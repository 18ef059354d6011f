"""The 00:30 UTC schedule: send one close message per org and thing due."""

from __future__ import annotations

from datetime import date

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from cxbill.jobs import wiring

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="cxbill")


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context) -> dict:
    today = date.fromisoformat(event["time"][:10])  # the schedule's own time, not the clock's
    run = wiring.daily_job()(today)
    metrics.add_metric(name="CloseMessagesSent", unit=MetricUnit.Count, value=run.sent)
    metrics.add_metric(name="HeldUploadsReleased", unit=MetricUnit.Count, value=run.released)
    failed = len(run.failed_orgs) + len(run.failed_uploads)
    metrics.add_metric(name="DailyRunFailures", unit=MetricUnit.Count, value=failed)
    metrics.add_metric(name="PdfRepairsRequested", unit=MetricUnit.Count, value=run.pdf_repairs)
    # the template's alarm fires past 24 h: an org whose close keeps failing
    waited = (today - run.oldest_due).days * 24 if run.oldest_due else 0
    metrics.add_metric(name="OldestDueCloseAgeHours", unit=MetricUnit.Count, value=waited)
    return {"date": today.isoformat(), "close_messages": run.sent, "failed": failed}
