"""The facts the system tells other systems (R-ops-1), as EventBridge details.

Each fact has an id of its own, derived from what makes it that fact (an upload's key, version
and status; an invoice's org and number; a PDF's key and SHA-256), so a handler that runs again
publishes the same fact with the same id and a consumer drops the repeat. The detail schemas are
docs/events/<detail type>.schema.json (tests validate every published event against them).
"""

from __future__ import annotations

import hashlib
from typing import Any

from .invoice import Invoice

SOURCE = "cxbill"
UPLOAD_ACCEPTED = "upload.accepted"
UPLOAD_REJECTED = "upload.rejected"
INVOICE_ISSUED = "invoice.issued"
INVOICE_PDF_READY = "invoice.pdf_ready"
DETAIL_TYPES = (UPLOAD_ACCEPTED, UPLOAD_REJECTED, INVOICE_ISSUED, INVOICE_PDF_READY)


def event_id(detail_type: str, *identity: str) -> str:
    """The fact's id: SHA-256 (hex) of its detail type and identity, joined by NUL."""
    return hashlib.sha256("\0".join((detail_type, *identity)).encode()).hexdigest()


def upload_fact(
    status: str,
    key: str,
    version: str,
    received_at: str,
    org_id: str | None,
    rows: int,
    late_rows: int,
    errors: int,
    reason: str | None,
    report_key: str | None,
) -> tuple[str, dict[str, Any], str]:
    """`upload.accepted` or `upload.rejected` (with its report's key): detail type, detail, id."""
    detail_type = UPLOAD_ACCEPTED if status == "accepted" else UPLOAD_REJECTED
    detail: dict[str, Any] = {
        "key": key,
        "version": version,
        "received_at": received_at,
        "org_id": org_id,
    }
    if detail_type == UPLOAD_ACCEPTED:
        detail |= {"rows": rows, "late_rows": late_rows}
    else:
        detail |= {"report_key": report_key, "errors": errors, "reason": reason}
    return detail_type, detail, event_id(detail_type, key, version)


def invoice_issued(invoice: Invoice) -> tuple[str, dict[str, Any], str]:
    """`invoice.issued`: number, org, kind, total (None on a partner's statement, which carries
    no cost, R-partner-1), currency, and its dates."""
    record = invoice.as_json()
    detail = {
        "number": invoice.number,
        "org_id": invoice.org_id,
        "kind": invoice.kind,
        "total": record.get("total"),
        "currency": invoice.currency,
        "issue_date": record["issue_date"],
        "due_date": record["due_date"],
    }
    return INVOICE_ISSUED, detail, event_id(INVOICE_ISSUED, invoice.org_id, invoice.number)


def invoice_pdf_ready(
    org_id: str, number: str, key: str, sha256: str
) -> tuple[str, dict[str, Any], str]:
    """`invoice.pdf_ready`: number, the PDF's key in the documents bucket and its SHA-256."""
    detail = {"number": number, "org_id": org_id, "key": key, "sha256": sha256}
    return INVOICE_PDF_READY, detail, event_id(INVOICE_PDF_READY, key, sha256)
