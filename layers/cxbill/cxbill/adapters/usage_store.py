"""Normalized usage: each accepted upload becomes one gzip CSV object in the documents bucket,
indexed by one UsageBatch item. Writes grow with uploads, not rows (SPEC 11).

Reading a period merges the batches whose time span touches it, latest upload winning per
identity (R-usage-1, R-ingest-3); later batches that lie outside the period are read too, but
only to drop identities whose latest version has moved out of it.
"""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from collections.abc import Hashable, Iterator, Sequence, Set
from typing import IO, Literal, overload

from ..domain.ports import Upload
from ..domain.usage import (
    USAGE_KINDS,
    Assignment,
    Call,
    Device,
    FileSummary,
    PhoneNumber,
    ResourceUse,
    Session,
    UsageRow,
)
from .aws import clients
from .models import UsageBatch
from .settings import Settings


class Spool:
    """A temporary gzip CSV the rows of one upload are written to while it is validated."""

    def __init__(self) -> None:
        self.file: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self._gzip = gzip.GzipFile(fileobj=self.file, mode="wb", compresslevel=5)
        self._text = io.TextIOWrapper(self._gzip, encoding="utf-8", newline="")
        self._writer = csv.writer(self._text)

    def add(self, row: tuple) -> None:
        self._writer.writerow(row)

    def finish(self) -> IO[bytes]:
        self._text.flush()
        self._text.detach()
        self._gzip.close()
        self.file.seek(0)
        return self.file

    def close(self) -> None:
        self.file.close()


class S3UsageStore:
    def __init__(self, settings: Settings):
        self.s3 = clients(settings, "s3")
        self.bucket = settings.documents_bucket

    def spool(self) -> Spool:
        return Spool()

    def save_batch(
        self, org_id: str, kind: str, upload: Upload, spool: Spool, summary: FileSummary
    ) -> None:
        """Store the batch object, then its index item; the same upload always writes the same
        names, so a retried upload overwrites itself instead of adding a batch."""
        object_key = f"normalized/{org_id}/{kind}/{upload.seq.replace('#', '/')}.csv.gz"
        self.s3.upload_fileobj(spool.finish(), self.bucket, object_key)
        UsageBatch(
            f"{org_id}#{kind}",
            upload.seq,
            object_key=object_key,
            first_ms=summary.first_ms or 0,
            last_ms=summary.last_ms or 0,
            rows=summary.rows,
            upload_key=upload.key,
            upload_version=upload.version,
        ).save()

    def batches(self, org_id: str, kind: str) -> list[UsageBatch]:
        return list(UsageBatch.query(f"{org_id}#{kind}", consistent_read=True))

    def rows(self, batch: UsageBatch, kind: str) -> Iterator[UsageRow]:
        body = self.s3.get_object(Bucket=self.bucket, Key=batch.object_key)["Body"]
        decode = USAGE_KINDS[kind].from_cells
        with gzip.GzipFile(fileobj=body) as raw:
            for cells in csv.reader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
                yield decode(cells)

    def stored_versions(
        self, org_id: str, kind: str, identities: Set[Hashable], before_ms: int
    ) -> Iterator[UsageRow]:
        """Every stored version of these identities in batches that touch time before
        `before_ms`: what a correction may move out of a closed period (R-ingest-8)."""
        for batch in self.batches(org_id, kind):
            if batch.first_ms < before_ms:
                yield from (r for r in self.rows(batch, kind) if r.identity in identities)

    # The kind decides the rows: sessions for "logins", assignments for "licenses", and so on.
    @overload
    def load(
        self, org_id: str, kind: Literal["logins"], start_ms: int, end_ms: int
    ) -> list[Session]: ...
    @overload
    def load(
        self, org_id: str, kind: Literal["licenses"], start_ms: int, end_ms: int
    ) -> list[Assignment]: ...
    @overload
    def load(
        self, org_id: str, kind: Literal["resources"], start_ms: int, end_ms: int
    ) -> list[ResourceUse]: ...
    @overload
    def load(
        self, org_id: str, kind: Literal["devices"], start_ms: int, end_ms: int
    ) -> list[Device]: ...
    @overload
    def load(
        self, org_id: str, kind: Literal["numbers"], start_ms: int, end_ms: int
    ) -> list[PhoneNumber]: ...
    @overload
    def load(
        self, org_id: str, kind: Literal["calls"], start_ms: int, end_ms: int
    ) -> list[Call]: ...
    def load(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> Sequence[UsageRow]:
        """The latest version of every row whose upload touched [start_ms, end_ms)."""
        batches = self.batches(org_id, kind)  # ordered by seq: upload order
        touching = [b for b in batches if b.first_ms < end_ms and b.last_ms >= start_ms]
        if not touching:
            return []
        first_seq, touching_seqs = touching[0].seq, {b.seq for b in touching}
        latest: dict[Hashable, UsageRow] = {}
        for batch in batches:
            if batch.seq < first_seq:
                continue
            keep = batch.seq in touching_seqs
            for row in self.rows(batch, kind):
                if keep:
                    latest[row.identity] = row
                else:  # its latest version lies outside the period
                    latest.pop(row.identity, None)
        return list(latest.values())
