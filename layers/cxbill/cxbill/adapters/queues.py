"""The close queue: FIFO, one message group per org, so an org's invoices are numbered in the
order the daily run sends them (R-invoice-2), and duplicates within the window are dropped."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date

from ..domain.schedule import Due
from .aws import clients
from .settings import Settings

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9!-/:-@\[-`{-~]")
SQS_BATCH = 10


class SqsCloseQueue:
    def __init__(self, settings: Settings):
        self.sqs = clients(settings, "sqs")
        self.url = settings.close_queue_url

    def send(self, dues: Iterable[Due], run_date: date) -> None:
        """One message per thing due, deduplicated by the message's own id."""
        dues = list(dues)
        for i in range(0, len(dues), SQS_BATCH):
            batch = dues[i : i + SQS_BATCH]
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": json.dumps(due.as_message(run_date)),
                    "MessageGroupId": due.org_id,
                    "MessageDeduplicationId": _NOT_ALLOWED.sub("_", due.message_id(run_date))[:128],
                }
                for n, due in enumerate(batch)
            ]
            failed = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed")
            if failed:
                raise RuntimeError(f"close queue refused {len(failed)} message(s): {failed[0]}")
