"""Invoice PDFs rendered per second on one core (R-pdf-1; the close renders every invoice).

`python tests/benchmarks/pdf_rate.py [--seconds S]` prints the rate of two typical invoices: a
15-line USD invoice with taxes, the seller block, a 31-day chart and the remittance block, and
the same in Japanese (CJK and DejaVu fonts). `make bench` includes it (run.py). The rate is
renders per CPU second of this process: one core, whatever else the machine runs."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TARGET_PER_SECOND = 50


def typical(japanese: bool = False):
    from cxbill.domain.books import InvoiceDocument
    from cxbill.domain.invoice import Invoice, InvoiceLine, TaxLine
    from cxbill.domain.issuer import Issuer
    from cxbill.domain.rating import Chart

    start, end = date(2026, 3, 15), date(2026, 4, 15)
    sections = ("Core services and fees", "Resource charges", "Device charges")
    lines = tuple(
        InvoiceLine(
            sections[n % 3],
            f"P{n}",
            f"Cloud CX service line {n}" if not japanese else f"導入支援サービス {n}",
            start,
            end,
            Decimal(n + 1),
            Decimal("95.00"),
            Decimal(95 * (n + 1)),
        )
        for n in range(15)
    )
    subtotal = sum((line.amount or Decimal(0)) for line in lines)
    tax = (subtotal * Decimal("0.0625")).quantize(Decimal("0.01"))
    invoice = Invoice(
        "period",
        "acme",
        end,
        end + timedelta(days=30),
        "USD",
        start,
        end,
        lines,
        subtotal,
        (TaxLine("State sales tax", Decimal("0.0625"), tax),),
        subtotal + tax,
        number="ACME-000003",
    )
    seller = Issuer(
        "Cloud CX Billing Inc.",
        ("500 Harbor Boulevard, Suite 900", "Boston, MA 02110", "United States"),
        "EIN 12-3456789",
        "billing@cxbill.example",
        ("ACH/EFT: First Demo Bank, routing 021000021, account 000123456789",),
    )
    chart = Chart(
        "Daily billable users",
        tuple((start + timedelta(days=d), Decimal(5 + d % 7)) for d in range(31)),
    )
    name, address = ("Acme Corp", ("1 Harbour Road", "Demo City", "US"))
    if japanese:
        name, address = ("株式会社さくら", ("東京都千代田区丸の内1-1-1", "Москва, Россия"))
    return InvoiceDocument(invoice, name, address, 30, None, chart, seller)


def rate(document, seconds: float) -> float:
    from cxbill.adapters.pdf import render_invoice_pdf

    render_invoice_pdf(document)  # fonts registered, caches warm
    count, started = 0, time.process_time()
    while (spent := time.process_time() - started) < seconds:
        render_invoice_pdf(document)
        count += 1
    return count / spent


def bench_pdf(seconds: float = 3.0) -> dict:
    latin, japanese = rate(typical(), seconds), rate(typical(japanese=True), seconds)
    return {
        "invoices_per_second": round(latin, 1),
        "invoices_per_second_japanese": round(japanese, 1),
        "target": TARGET_PER_SECOND,
        "ok": min(latin, japanese) >= TARGET_PER_SECOND,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    result = bench_pdf(parser.parse_args().seconds)
    print("invoice PDFs per CPU second:", json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "infra"))
    sys.exit(main())
