"""The demo's invoices as a customer sees them (R-pdf-1, R-pdf-3, R-pdf-4): every kind (period,
opening, one-time, statement, adjustments, a multi-page one) carries the seller beside the
buyer, no line twice, and the record's amounts.

With poppler's `pdftoppm` on the machine, each PDF's pages are also turned into PNGs under
`out/pdf-pages/` (or $CXBILL_PDF_PAGES) to look at; without it that test is skipped."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader

from cxbill.adapters.people import format_money
from cxbill_local.cli import DEMO_SCENARIO
from cxbill_local.replay import replay

pytestmark = pytest.mark.e2e

UNTIL = date(2026, 5, 20)  # every kind has been issued by then, adjustments included
PAGES = Path(
    os.environ.get("CXBILL_PDF_PAGES", Path(__file__).resolve().parents[2] / "out" / "pdf-pages")
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, tuple[dict, bytes]]:
    """number -> (record, PDF) of the demo's invoices through UNTIL."""
    out = tmp_path_factory.mktemp("pdf-pages")
    replay(DEMO_SCENARIO, UNTIL, out)
    found = {}
    for path in sorted(out.glob("invoices/*/*.json")):
        found[path.stem] = (json.loads(path.read_text()), path.with_suffix(".pdf").read_bytes())
    return found


def chosen(demo: dict[str, tuple[dict, bytes]]) -> dict[str, str]:
    """One invoice of each thing a customer may receive: label -> number."""
    picks: dict[str, str] = {}
    for number, (record, pdf) in demo.items():
        picks.setdefault(record["kind"], number)
        if any(line["product"].startswith("adjustment:") for line in record["lines"]):
            picks.setdefault("adjustments", number)
        if len(PdfReader(io.BytesIO(pdf)).pages) > 1:
            picks.setdefault("multi-page", number)
        if record["currency"] == "JPY":
            picks.setdefault("japanese-seller", number)
    return picks


def test_every_kind_is_in_the_demo(demo):
    assert set(chosen(demo)) == {
        "period",
        "opening",
        "one_time",
        "statement",
        "adjustments",
        "multi-page",
        "japanese-seller",
    }


def test_every_kind_shows_seller_beside_buyer_without_a_line_twice(demo):
    for label, number in chosen(demo).items():
        record, pdf = demo[number]
        pages = [page.extract_text().splitlines() for page in PdfReader(io.BytesIO(pdf)).pages]
        first, lines = pages[0], [line for page in pages for line in page]
        issuer = record["issuer"]  # the demo uploads its issuers on its first day
        assert "FROM" in first and "BILL TO" in first, label
        for expected in (issuer["legal_name"], *issuer["address"], f"Tax ID: {issuer['tax_id']}"):
            assert expected in first, (label, expected)
        header = first[: first.index(f"Organization ID: {record['org_id']}") + 1]
        repeated = {line for line in header if header.count(line) > 1}
        assert not repeated, (label, repeated)  # "Acme Corp" printed once
        assert f"Page 1 of {len(pages)}" in first
        if record["kind"] != "statement":
            total = format_money(Decimal(record["total"]), record["currency"])
            assert any(line.endswith(total) for line in lines), (label, total)


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="poppler-utils (pdftoppm) not installed"
)
def test_pages_as_pngs_to_look_at(demo):
    PAGES.mkdir(parents=True, exist_ok=True)
    for old in PAGES.glob("*.png"):
        old.unlink()
    for label, number in sorted(chosen(demo).items()):
        record, pdf = demo[number]
        source = PAGES / f"{label}-{number}.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "80", "-png", str(source), str(PAGES / f"{label}-{number}")],
            check=True,
            timeout=60,
        )
        pages = sorted(PAGES.glob(f"{label}-{number}-*.png"))
        assert len(pages) == len(PdfReader(io.BytesIO(pdf)).pages), label
        assert all(page.stat().st_size > 5_000 for page in pages), label  # not blank
