"""The close queue: FIFO, one message group per org, so an org's invoices are numbered in the
order the daily run sends them (R-invoice-2), and duplicates within the window are dropped."""

from __future__ import annotations

import json
import re

from ..domain.schedule import Due
from .aws import clients
from .settings import Settings

_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9!-/:-@\[-`{-~]")


class CloseQueue:
    def __init__(self, settings: Settings):
        self.sqs = clients(settings, "sqs")
        self.url = settings.close_queue_url

    def send(self, dues: list[Due], run_date: str) -> None:
        """One message per thing due; the run date is part of its identity, so a later run
        re-offers what an earlier one could not finish, while one run's duplicates collapse."""
        for i in range(0, len(dues), 10):
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": json.dumps({**due.as_message(), "run_date": run_date}),
                    "MessageGroupId": due.org_id,
                    "MessageDeduplicationId": _NOT_ALLOWED.sub("_", f"{run_date}:{due.key}")[:128],
                }
                for n, due in enumerate(dues[i : i + 10])
            ]
            failed = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries).get("Failed")
            if failed:
                raise RuntimeError(f"close queue refused {len(failed)} message(s): {failed[0]}")
