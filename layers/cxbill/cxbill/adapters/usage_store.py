"""Normalized usage in the columnar store (SPEC 11): each accepted upload becomes one Parquet
file in the documents bucket, `usage/kind=<kind>/org_id=<org>/<upload seq, path-safe>.parquet`
(the Hive layout Athena's Glue tables read), indexed by one UsageBatch item. Writes grow with
uploads, not rows.

Reading a period resolves, in SQL over the batch files downloaded to /tmp (adapters/columnar),
the latest upload per identity among the batches whose time span touches it (R-usage-1,
R-ingest-3); later batches that lie outside the period are read too, but only their identities,
to drop those whose latest version has moved out of it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Hashable, Iterator, Sequence, Set
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from ..domain import ports
from ..domain.ports import Upload, VectorBatch
from ..domain.usage import (
    FileSummary,
    UsageRow,
)
from ..domain.usage_kinds.tally import Tally
from . import columnar, period_sql, vectorized
from .aws import clients
from .models import UsageBatch
from .period_sql import SqlSessions
from .settings import Settings

MAX_NAME_BYTES = 400  # a batch's file name; S3 keys are at most 1,024 bytes


class Spool(columnar.CsvSpool):
    """A temporary CSV the rows of one upload are written to while it is validated; stored as
    Parquet only by save_batch."""


def batch_name(seq: str) -> str:
    """The upload seq made path-safe: percent-encoded (so distinct seqs stay distinct and sort
    by event time), or for a very long key its event time and SHA-256."""
    name = quote(seq, safe="")
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    return f"{seq.split('#', 1)[0]}%23sha256-{hashlib.sha256(seq.encode()).hexdigest()}"


def batch_key(org_id: str, kind: str, seq: str) -> str:
    return f"usage/kind={kind}/org_id={org_id}/{batch_name(seq)}.parquet"


class S3UsageStore:
    def __init__(self, settings: Settings):
        self.s3 = clients(settings, "s3")
        self.bucket = settings.documents_bucket

    def spool(self) -> Spool:
        return Spool()

    def save_batch(
        self,
        org_id: str,
        kind: str,
        upload: Upload,
        spool: ports.Spool | VectorBatch,
        summary: FileSummary,
    ) -> None:
        """Store the batch file, then its index item; the same upload always writes the same
        names, so a retried upload overwrites itself instead of adding a batch. A vectorized
        batch (issue 8) is already the file."""
        object_key = batch_key(org_id, kind, upload.seq)
        if isinstance(spool, vectorized.ParquetBatch):
            parquet = spool.path
        else:
            assert isinstance(spool, Spool), "a spool of this store, or a vectorized batch"
            parquet = os.path.join(spool.dir, "batch.parquet")
            columnar.csv_to_parquet(kind, spool.finish(), upload.seq, parquet)
        self.s3.upload_file(parquet, self.bucket, object_key)
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

    def _download(
        self, batches: Sequence[tuple[int, UsageBatch, bool]], into: str
    ) -> list[columnar.BatchFile]:
        """Each batch file to /tmp with one GET (never a ranged multipart download)."""
        files = []
        for ordinal, batch, keep in batches:
            path = Path(into) / f"{ordinal:08d}.parquet"
            body = self.s3.get_object(Bucket=self.bucket, Key=batch.object_key)["Body"]
            columnar.download(body, path)
            files.append(columnar.BatchFile(ordinal, str(path), keep))
        return files

    def stored_versions(
        self, org_id: str, kind: str, identities: Set[Hashable], before_ms: int
    ) -> Iterator[UsageRow]:
        """Every stored version of these identities in batches that touch time before
        `before_ms`: what a correction may move out of a closed period (R-ingest-8)."""
        if not identities:
            return iter(())
        old = [
            (n, b, True) for n, b in enumerate(self.batches(org_id, kind)) if b.first_ms < before_ms
        ]
        if not old:
            return iter(())
        scratch = tempfile.mkdtemp(prefix="cxbill-versions-")
        try:
            files = self._download(old, scratch)
            if isinstance(identities, vectorized.BatchIdentities):  # looked up in SQL
                return iter(vectorized.stored_versions(kind, files, identities))
            return iter(columnar.versions(kind, files, identities))
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def load(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> Sequence[UsageRow]:
        """The latest version of every row whose upload touched [start_ms, end_ms)."""
        with self._period_files(org_id, kind, start_ms, end_ms) as files:
            return columnar.latest(kind, files) if files else []

    @contextmanager
    def sessions(
        self, org_id: str, start_ms: int, end_ms: int, emails: bool = False
    ) -> Iterator[SqlSessions]:
        """The period's billable sessions in a DuckDB temporary table (period_sql.SqlSessions),
        read from the batches load would read; the files leave /tmp once read."""
        with self._period_files(org_id, "logins", start_ms, end_ms) as files:
            sessions = SqlSessions(files, start_ms, end_ms, emails)
        with sessions:
            yield sessions

    def tally(self, org_id: str, kind: str, start_ms: int, end_ms: int) -> list[Tally]:
        """The kind's TallySpec groups, in SQL (identity resolution spills to /tmp)."""
        with self._period_files(org_id, kind, start_ms, end_ms) as files:
            return period_sql.tally(kind, files, start_ms, end_ms) if files else []

    @contextmanager
    def _period_files(
        self, org_id: str, kind: str, start_ms: int, end_ms: int
    ) -> Iterator[list[columnar.BatchFile]]:
        """The batches whose time span touches [start_ms, end_ms) and every later one (for its
        identities), downloaded to /tmp for the time of the block."""
        batches = self.batches(org_id, kind)  # ordered by seq: upload order
        touching = [b.first_ms < end_ms and b.last_ms >= start_ms for b in batches]
        if not any(touching):
            yield []
            return
        first = touching.index(True)
        wanted = [(n, batches[n], touching[n]) for n in range(first, len(batches))]
        scratch = tempfile.mkdtemp(prefix="cxbill-load-")
        try:
            yield self._download(wanted, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
