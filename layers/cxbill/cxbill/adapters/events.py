"""The project's own EventBridge bus (R-ops-1): one PutEvents entry per fact, source `cxbill`.

EventBridge gives every entry an id of its own, new on each call; the fact's id travels in the
detail as `event_id`, so a consumer drops what a retried handler published again."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..domain.events import SOURCE
from .aws import clients
from .settings import Settings


class EventPublishFailed(RuntimeError):
    """EventBridge refused the entry: the handler fails and its message is retried."""


class EventBridgeEvents:
    def __init__(self, settings: Settings):
        self.events = clients(settings, "events")
        self.bus = settings.event_bus_name

    def publish(self, detail_type: str, detail: Mapping[str, Any], event_id: str) -> None:
        entry = {
            "EventBusName": self.bus,
            "Source": SOURCE,
            "DetailType": detail_type,
            "Detail": json.dumps({**detail, "event_id": event_id}, ensure_ascii=False),
        }
        answer = self.events.put_events(Entries=[entry])
        if answer.get("FailedEntryCount"):
            failed = answer["Entries"][0]
            raise EventPublishFailed(
                f"{detail_type} {event_id}: {failed.get('ErrorCode')} {failed.get('ErrorMessage')}"
            )
