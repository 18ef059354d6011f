"""boto3 clients, made once per settings (a loopback endpoint when running locally)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

from .settings import Settings


@lru_cache(maxsize=16)
def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    config = Config(retries={"mode": "standard", "max_attempts": 5})
    if service == "s3":  # presigned URLs name the regional endpoint and sign with SigV4
        config = config.merge(Config(signature_version="s3v4", s3={"addressing_style": "path"}))
    return boto3.client(service, region_name=region, endpoint_url=endpoint_url, config=config)


def clients(settings: Settings, service: str) -> Any:
    return client(service, settings.region, settings.endpoint_url)
