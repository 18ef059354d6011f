"""R-ingest-5: the ingestion record of each processed upload, keyed by (key, version)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.ports import Upload
from .models import IngestionItem


class DynamoIngestionLog:
    def seen(self, upload: Upload) -> bool:
        query = IngestionItem.query(
            upload.key, IngestionItem.version == upload.version, limit=1, consistent_read=True
        )
        return any(True for _ in query)

    def record(self, upload: Upload, entry: Mapping[str, Any]) -> None:
        IngestionItem(upload.key, upload.version, **entry).save()
