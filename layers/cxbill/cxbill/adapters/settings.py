"""The deployment's names, read from the environment once per cold start (template Globals)."""

from __future__ import annotations

import os
from dataclasses import dataclass

MAX_URL_EXPIRY_SECONDS = 3600  # R-api-2


@dataclass(frozen=True)
class Settings:
    orgs_table: str
    ledger_table: str
    usage_table: str
    ingestions_table: str
    idempotency_table: str
    upload_bucket: str
    documents_bucket: str
    close_queue_url: str
    region: str
    url_expiry_seconds: int = 300
    endpoint_url: str | None = None  # a loopback AWS stand-in (cxbill serve); None on AWS

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ) if env is None else env
        expiry = int(env.get("URL_EXPIRY_SECONDS", "300"))
        if not 1 <= expiry <= MAX_URL_EXPIRY_SECONDS:
            raise ValueError(f"URL_EXPIRY_SECONDS must be 1 … {MAX_URL_EXPIRY_SECONDS}")
        return cls(
            orgs_table=env["ORGS_TABLE"],
            ledger_table=env["LEDGER_TABLE"],
            usage_table=env["USAGE_TABLE"],
            ingestions_table=env["INGESTIONS_TABLE"],
            idempotency_table=env["IDEMPOTENCY_TABLE"],
            upload_bucket=env["UPLOAD_BUCKET"],
            documents_bucket=env["DOCUMENTS_BUCKET"],
            close_queue_url=env["CLOSE_QUEUE_URL"],
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            url_expiry_seconds=expiry,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        )
