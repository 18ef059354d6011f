"""R-ingest-5: the ingestion record of each processed upload, keyed by (key, version)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pynamodb.exceptions import DoesNotExist

from ..domain.ports import Upload
from .models import HELD_PARTITION, HeldUpload, IngestionItem


class DynamoIngestionLog:
    def status(self, upload: Upload) -> str | None:
        try:
            item = IngestionItem.get(upload.key, upload.version, consistent_read=True)
        except DoesNotExist:
            return None
        return item.status

    def record(self, upload: Upload, entry: Mapping[str, Any]) -> None:
        IngestionItem(upload.key, upload.version, **entry).save()


class DynamoHeldUploads:
    """R-ingest-7: usage uploads held until the next daily run, by upload order."""

    def hold(self, upload: Upload) -> None:
        HeldUpload(
            HELD_PARTITION,
            upload.seq,
            upload_key=upload.key,
            upload_version=upload.version,
            received_ms=upload.received_ms,
        ).save()

    def held_before(self, ms: int) -> list[Upload]:
        query = HeldUpload.query(HELD_PARTITION, consistent_read=True)
        uploads = [Upload(h.upload_key, h.upload_version, int(h.received_ms)) for h in query]
        return [u for u in uploads if u.received_ms < ms]

    def release(self, upload: Upload) -> None:
        HeldUpload(HELD_PARTITION, upload.seq).delete()
