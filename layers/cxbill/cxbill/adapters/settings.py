"""The deployment's names, read from the environment once per cold start.

`template.yaml` is the one list of what a function is given (Globals.Function.Environment plus
the function's own Environment); `Settings` declares one field per variable, the variable's
name on the field itself. Adding a table is: the table and its variable in the template, and
one field here. tests/unit/test_template.py holds the two lists equal.
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, get_type_hints

MAX_URL_EXPIRY_SECONDS = 3600  # R-api-2

# Variables the template sets for libraries, not for Settings (Powertools reads them).
LIBRARY_VARIABLES = frozenset(
    {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "LOG_LEVEL", "POWERTOOLS_LOG_LEVEL"}
)


def variable(
    name: str,
    default: Any = MISSING,
    *,
    fallbacks: tuple[str, ...] = (),
    runtime: bool = False,
) -> Any:
    """A field read from the environment variable `name` (then `fallbacks`). `runtime=True`:
    the Lambda runtime (or the local stand-in) sets it, not the template."""
    metadata = {"env": name, "fallbacks": fallbacks, "runtime": runtime}
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    orgs_table: str = variable("ORGS_TABLE")
    ledger_table: str = variable("LEDGER_TABLE")
    usage_table: str = variable("USAGE_TABLE")
    ingestions_table: str = variable("INGESTIONS_TABLE")
    idempotency_table: str = variable("IDEMPOTENCY_TABLE")
    upload_bucket: str = variable("UPLOAD_BUCKET")
    documents_bucket: str = variable("DOCUMENTS_BUCKET")
    close_queue_url: str = variable("CLOSE_QUEUE_URL")
    event_bus_name: str = variable("EVENT_BUS_NAME")  # R-ops-1: the project's own bus
    region: str = variable(
        "AWS_REGION", "us-east-1", fallbacks=("AWS_DEFAULT_REGION",), runtime=True
    )
    url_expiry_seconds: int = variable("URL_EXPIRY_SECONDS", 300)
    # R-pdf-5: the close's only (a per-function variable); invoice PDFs are locked this long
    invoice_retention_years: int = variable("INVOICE_RETENTION_YEARS", 10)
    # a loopback AWS stand-in (cxbill serve); None on AWS
    endpoint_url: str | None = variable("AWS_ENDPOINT_URL", None, runtime=True)

    def __post_init__(self) -> None:
        if not 1 <= self.url_expiry_seconds <= MAX_URL_EXPIRY_SECONDS:
            raise ValueError(f"URL_EXPIRY_SECONDS must be 1 … {MAX_URL_EXPIRY_SECONDS}")
        if self.invoice_retention_years < 1:
            raise ValueError("INVOICE_RETENTION_YEARS must be at least 1")

    @classmethod
    def variables(cls, *, runtime: bool = False) -> dict[str, str]:
        """Environment variable -> field: those the template sets (or, with `runtime=True`,
        those the Lambda runtime sets)."""
        return {f.metadata["env"]: f.name for f in fields(cls) if f.metadata["runtime"] == runtime}

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Settings from `env` (default: os.environ); a required variable missing raises
        KeyError naming it, a malformed number ValueError."""
        env = dict(os.environ) if env is None else env
        types = get_type_hints(cls)
        values: dict[str, Any] = {}
        for f in fields(cls):
            names = (f.metadata["env"], *f.metadata["fallbacks"])
            raw = next((env[n] for n in names if env.get(n)), None)
            if raw is None:
                if f.default is MISSING:
                    raise KeyError(f.metadata["env"])
                continue
            values[f.name] = int(raw) if types[f.name] is int else raw
        return cls(**values)
