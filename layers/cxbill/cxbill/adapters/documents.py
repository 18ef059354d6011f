"""The S3 side: reading uploads, and the documents bucket (rejection reports, PDFs, usage
reports, rate decks, signed URLs)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import IO, Any
from urllib.parse import quote

from ..domain.issuer import Issuer
from ..domain.ports import SignedUrl, Upload
from .aws import clients
from .settings import Settings


class S3Uploads:
    """The upload bucket, read only."""

    def __init__(self, settings: Settings):
        self.s3 = clients(settings, "s3")
        self.bucket = settings.upload_bucket

    def size(self, upload: Upload) -> int:
        return int(self.s3.head_object(**self._where(upload))["ContentLength"])

    def versions(self, prefix: str) -> list[tuple[str, str]]:
        """(key, version) of every object version under `prefix`."""
        found = []
        for page in self.s3.get_paginator("list_object_versions").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            found += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
        return found

    def open(self, upload: Upload) -> IO[bytes]:
        return self.s3.get_object(**self._where(upload))["Body"]

    def _where(self, upload: Upload) -> dict[str, str]:
        where = {"Bucket": self.bucket, "Key": upload.key}
        version = upload.version
        if version and version != "null" and not version.startswith("etag:"):
            where["VersionId"] = version
        return where


class S3Documents:
    def __init__(self, settings: Settings):
        self.s3 = clients(settings, "s3")
        self.bucket = settings.documents_bucket
        self.url_expiry_seconds = settings.url_expiry_seconds
        self.retention_years = settings.invoice_retention_years

    def put_rejection(self, name: str, report: Mapping[str, Any]) -> str:
        """R-ingest-1: the report of a rejected upload at rejections/<name>.json."""
        key = f"rejections/{name}.json"
        body = json.dumps(report, indent=2, ensure_ascii=False).encode()
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")
        return key

    def put_pdf(self, org_id: str, number: str, pdf: bytes) -> tuple[str, str]:
        """R-pdf-2: stored at invoices/<org_id>/<number>.pdf, write-once under Object Lock in
        compliance mode (R-pdf-5); returns the key and its SHA-256."""
        key = f"invoices/{org_id}/{number}.pdf"
        now = datetime.now(UTC)
        retain_until = now.replace(year=now.year + self.retention_years, day=min(now.day, 28))
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=pdf,
            ContentType="application/pdf",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=retain_until,
            ChecksumAlgorithm="SHA256",  # S3 wants a checksum with Object Lock headers
        )
        return key, hashlib.sha256(pdf).hexdigest()

    def put_report(self, org_id: str, report: str, first: date, last: date, csv: IO[bytes]) -> str:
        """A usage report at reports/<org_id>/<report>/<first>_<last>_<sha256 prefix>.csv: the
        same rows always get the same name, and different rows never overwrite them."""
        digest = hashlib.sha256()
        while chunk := csv.read(1 << 20):
            digest.update(chunk)
        csv.seek(0)
        name = f"{first.isoformat()}_{last.isoformat()}_{digest.hexdigest()[:16]}.csv"
        key = f"reports/{org_id}/{report}/{name}"
        extra = {
            "ContentType": "text/csv; charset=utf-8",
            "ContentDisposition": f'attachment; filename="{org_id}_{report}_{name}"',
        }
        self.s3.upload_fileobj(csv, self.bucket, key, ExtraArgs=extra)
        return key

    # -- rate decks: one object per upload, the latest before a calls file prices it (R-deck-1) --
    def put_deck(self, region: str, currency: str, direction: str, seq: str, deck: Mapping) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{_deck_prefix(region, currency, direction)}{_path_safe(seq)}.json",
            Body=json.dumps(deck).encode(),
            ContentType="application/json",
        )

    def get_deck(self, region: str, currency: str, direction: str, before: str) -> dict | None:
        """The deck uploaded last before `before` (an upload seq), whatever order the uploads
        were processed in (R-ingest-7): a strongly consistent listing, in key order."""
        prefix = _deck_prefix(region, currency, direction)
        limit = f"{prefix}{_path_safe(before)}"
        latest = None
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for obj in page.get("Contents", []):
                if obj["Key"].removesuffix(".json") < limit:
                    latest = obj["Key"]
        if latest is None:
            return None
        return json.loads(self.s3.get_object(Bucket=self.bucket, Key=latest)["Body"].read())

    # -- the seller (R-pdf-3): one object per upload, the latest by upload order in force --
    def put_issuer(self, currency: str | None, upload: Upload, issuer: Issuer) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=f"{_issuer_prefix(currency)}{_upload_order(upload)}.json",
            Body=json.dumps(issuer.as_json(), ensure_ascii=False).encode(),
            ContentType="application/json",
        )

    def get_issuer(self, currency: str | None) -> Issuer | None:
        """The issuer of the latest upload for `currency` (None: config/issuer.json), whatever
        order the uploads were processed in (R-ingest-7): a listing in key order."""
        latest = None
        for page in self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=_issuer_prefix(currency)
        ):
            for obj in page.get("Contents", []):
                latest = obj["Key"]
        if latest is None:
            return None
        body = self.s3.get_object(Bucket=self.bucket, Key=latest)["Body"].read()
        return Issuer.from_json(json.loads(body))

    def signed_url(self, key: str, now: datetime) -> SignedUrl:
        """R-api-2: a GET of exactly one object, expiring after the configured seconds."""
        url = self.s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=self.url_expiry_seconds,
        )
        expires = now + timedelta(seconds=self.url_expiry_seconds)
        return SignedUrl(url, expires.replace(microsecond=0))


def _issuer_prefix(currency: str | None) -> str:
    return f"config/issuer-{currency}/" if currency else "config/issuer/"


def _upload_order(upload: Upload) -> str:
    """`Upload.seq` as one key segment that sorts the same way: event time (fixed width), then
    the version (the key is the same for every upload under one prefix)."""
    return f"{upload.received_ms:015d}_{quote(upload.version, safe='')}"


def _deck_prefix(region: str, currency: str, direction: str) -> str:
    return f"decks/{region}/{currency}/{direction}/"


def _path_safe(seq: str) -> str:
    """An upload seq as one key segment that still sorts in upload order."""
    return seq.replace("/", "|")
