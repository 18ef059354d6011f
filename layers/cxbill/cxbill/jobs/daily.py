"""The daily run: find the orgs with something due by key and send one close message per
thing due (section 9). Its work grows with what is due, never with users or usage."""

from __future__ import annotations

from datetime import date

from ..domain.ports import CloseQueue, Orgs
from ..domain.schedule import due_on


class DailyJob:
    def __init__(self, orgs: Orgs, queue: CloseQueue):
        self.orgs = orgs
        self.queue = queue

    def __call__(self, today: date) -> int:
        sent = 0
        for org_id in self.orgs.due_by(today):
            org = self.orgs.get(org_id)
            if org is None:
                continue
            dues = due_on(org.contract, org.state, today)
            self.queue.send(dues, today)
            sent += len(dues)
        return sent
