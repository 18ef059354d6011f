"""The invoice PDF (R-pdf-1, R-invoice-4, R-invoice-7, R-partner-1), checked through its text."""

from __future__ import annotations

import copy
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from cxbill.adapters.pdf import REMITTANCE, render_invoice_pdf
from cxbill.adapters.people import format_money, format_rate
from cxbill.domain.books import InvoiceDocument, invoice_from_json
from cxbill.domain.periods import people_period
from cxbill.domain.rating import Chart

MONTH = ("2026-03-10T00:00:00Z", "2026-04-10T00:00:00Z")
INVOICE = {
    "number": "NORTHWIND-000002",
    "kind": "period",
    "org_id": "northwind",
    "issue_date": "2026-04-10",
    "due_date": "2026-05-10",
    "currency": "USD",
    "period_start": MONTH[0],
    "period_end": MONTH[1],
    "lines": [
        {
            "section": "Core services and fees",
            "product": "CX2_PREPAY",
            "description": "Cloud CX 2 User \u2013 Prepay",
            "service_start": MONTH[0],
            "service_end": MONTH[1],
            "quantity": "3",
            "rate": "95.00",
            "amount": "285.00",
        },
        {
            "section": "Core services and fees",
            "product": "CX3",
            "description": "Cloud CX 3 User",
            "service_start": MONTH[0],
            "service_end": MONTH[1],
            "quantity": "1",
            "rate": "160.00",
            "amount": "160.00",
        },
    ],
    "subtotal": "445.00",
    "taxes": [{"name": "State sales tax", "rate": "0.0625", "amount": "27.81"}],
    "total": "472.81",
    "warnings": [],
}
DAYS = [date(2026, 3, d) for d in range(10, 32)] + [date(2026, 4, d) for d in range(1, 10)]
CURRENCY_SYMBOLS = ("$", "\u00a5", "\u20ac", "\u00a3")
PERIOD = (date(2026, 3, 10), date(2026, 4, 10))


def invoice_doc(record: dict | None = None, **overrides) -> InvoiceDocument:
    """The document of an invoice record (R-invoice-5): the typed invoice the close issues."""
    fields = {
        "invoice": invoice_from_json(copy.deepcopy(record or INVOICE)),
        "org_name": "Northwind Traders",
        "billing_address": ("1 Market Street", "Suite 200", "San Francisco, CA 94105", "USA"),
        "payment_terms_days": 30,
        "partner": None,
        "chart": Chart("Daily billable users", tuple((day, Decimal(3)) for day in DAYS)),
    }
    fields.update(overrides)
    return InvoiceDocument(**fields)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_text(doc: InvoiceDocument) -> str:
    return "\n".join(page_texts(render_invoice_pdf(doc)))


def flowing(text: str) -> str:
    """PDF text with line breaks made spaces: long descriptions wrap inside their cell."""
    return " ".join(text.split())


def money(text: str, currency: str = "USD") -> str:
    return format_money(Decimal(text), currency)


def charge_line(n: int, section: str = "Core services and fees") -> dict:
    return {
        "section": section,
        "product": f"P{n}",
        "description": f"Charge number {n}",
        "service_start": MONTH[0],
        "service_end": MONTH[1],
        "quantity": str(n),
        "rate": "10.00",
        "amount": f"{n * 10}.00",
    }


def statement_record() -> dict:
    record = copy.deepcopy(INVOICE)
    record["kind"] = "statement"
    for line in record["lines"]:
        del line["rate"], line["amount"]
    for cost_key in ("subtotal", "taxes", "total"):
        del record[cost_key]
    return record


# --- R-invoice-7: periods as people see them -----------------------------------------------------


def test_r_invoice_7_people_period_shows_last_day_inclusive():
    assert people_period(*PERIOD) == "Mar 10, 2026 \u2013 Apr 9, 2026"
    assert people_period(date(2026, 1, 15), date(2026, 2, 15)) == (
        "Jan 15, 2026 \u2013 Feb 14, 2026"
    )


def test_r_invoice_7_people_period_across_a_year_end_and_leap_day():
    assert people_period(date(2027, 12, 31), date(2028, 3, 1)) == (
        "Dec 31, 2027 \u2013 Feb 29, 2028"
    )


def test_r_invoice_7_people_period_of_one_day_is_that_day():
    assert people_period(date(2026, 4, 10), date(2026, 4, 11)) == "Apr 10, 2026"
    assert people_period(date(2026, 4, 10), date(2026, 4, 10)) == "Apr 10, 2026"


def test_r_invoice_7_one_time_invoice_shows_its_one_day():
    record = copy.deepcopy(INVOICE)
    record.update(kind="one_time", period_end="2026-03-11T00:00:00Z")
    text = pdf_text(invoice_doc(record))
    assert "Billing period: Mar 10, 2026\n" in text + "\n"


# --- R-pdf-1 / R-invoice-4: every field, amounts equal to the record -----------------------------


def test_r_pdf_1_shows_every_invoice_field():
    text = pdf_text(invoice_doc())
    for expected in (
        "Invoice",
        "NORTHWIND-000002",
        "Northwind Traders",
        "northwind",
        "1 Market Street",
        "San Francisco, CA 94105",
        "Apr 10, 2026",  # issue date
        "May 10, 2026",  # due date
        "Payable in USD",
        "Payment terms: Net 30 days",
        "Mar 10, 2026 \u2013 Apr 9, 2026",
        "Core services and fees",
        "Cloud CX 2 User \u2013 Prepay",
        "Cloud CX 3 User",
        "Taxes and fees",
        "State sales tax",
        "6.25%",
        "Subtotal",
        "Total",
        REMITTANCE,
        "Daily billable users",
        "Page 1 of 1",
    ):
        assert expected in text, expected


def test_r_pdf_1_shows_subtotal_line_amounts_taxes_and_total_formatted():
    text = pdf_text(invoice_doc())
    record = INVOICE
    for line in record["lines"]:
        assert money(line["amount"]) in text
        assert format_rate(Decimal(line["rate"]), "USD") in text
    for tax in record["taxes"]:
        assert money(tax["amount"]) in text
    assert money(record["subtotal"]) == "$445.00" and "$445.00" in text
    assert money(record["total"]) == "$472.81" and "$472.81" in text


def test_r_pdf_1_every_amount_printed_is_one_of_the_records():
    text = pdf_text(invoice_doc())
    printed = sorted(re.findall(r"-?\$[\d,]+\.\d+", text))
    record = INVOICE
    expected = [money(line["amount"]) for line in record["lines"]]
    expected += [format_rate(Decimal(line["rate"]), "USD") for line in record["lines"]]
    expected += [money(tax["amount"]) for tax in record["taxes"]]
    expected += [money(record["subtotal"]), money(record["total"])]
    assert printed == sorted(expected)


def test_r_pdf_1_sections_print_in_fixed_order_only_when_they_have_lines():
    record = copy.deepcopy(INVOICE)
    record["lines"] = [
        charge_line(1, "Telco usage charges"),
        charge_line(2, "Core services and fees"),
        charge_line(3, "Device charges"),
    ]
    text = pdf_text(invoice_doc(record))
    positions = [
        text.index(name)
        for name in ("Core services and fees", "Device charges", "Telco usage charges")
    ]
    assert positions == sorted(positions)
    assert "Resource charges" not in text


def test_r_pdf_1_call_line_without_rate_shows_a_dash():
    record = copy.deepcopy(INVOICE)
    call = charge_line(7, "Telco usage charges")
    call.update(description="Outbound calls (US)", quantity="1234.5", rate=None, amount="61.73")
    record["lines"].append(call)
    text = pdf_text(invoice_doc(record))
    assert "Outbound calls (US)" in text
    assert "1,234.5" in text
    assert "\u2014" in text
    assert "$61.73" in text


def test_r_pdf_1_negative_adjustment_amount_is_shown_as_recorded():
    record = copy.deepcopy(INVOICE)
    adjustment = charge_line(1)
    adjustment.update(
        product="adjustment:CX3",
        description=f"Adjustment: Cloud CX 3 User ({people_period(*PERIOD)})",
        quantity="-1",
        amount="-160.00",
    )
    record["lines"].append(adjustment)
    text = flowing(pdf_text(invoice_doc(record)))
    assert "Adjustment: Cloud CX 3 User (Mar 10, 2026 \u2013 Apr 9, 2026)" in text
    assert money("-160.00") in text


def test_r_pdf_1_long_invoice_repeats_headers_and_numbers_every_page():
    record = copy.deepcopy(INVOICE)
    record["lines"] = [charge_line(n) for n in range(1, 41)]
    record["lines"] += [charge_line(n, "Telco usage charges") for n in range(41, 61)]
    pages = page_texts(render_invoice_pdf(invoice_doc(record)))
    assert len(pages) > 1
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in page
        assert "Description" in page
    text = "\n".join(pages)
    for line in record["lines"]:
        assert line["description"] in text
        assert money(line["amount"]) in text


def test_r_pdf_1_jpy_amounts_and_rates_show_yen_without_minor_units():
    record = copy.deepcopy(INVOICE)
    record.update(currency="JPY", subtotal="44002", total="44002", taxes=[])
    record["lines"] = [charge_line(1)]
    record["lines"][0].update(quantity="4", rate="11000.5", amount="44002")
    text = pdf_text(invoice_doc(record))
    assert "\u00a544,002" in text
    assert "\u00a511,000.5" in text
    assert "Payable in JPY" in text


@pytest.mark.parametrize(("currency", "symbol"), [("EUR", "\u20ac"), ("GBP", "\u00a3")])
def test_r_pdf_1_euro_and_pound_are_selectable_text(currency, symbol):
    record = copy.deepcopy(INVOICE)
    record["currency"] = currency
    text = pdf_text(invoice_doc(record))
    assert f"{symbol}472.81" in text


def test_r_pdf_1_user_text_renders_literally():
    record = copy.deepcopy(INVOICE)
    record["lines"][0]["description"] = "Seats <b>& more</b>"
    doc = invoice_doc(record, org_name="Smith & <Sons>", billing_address=("<i>1 A&B Road</i>",))
    text = pdf_text(doc)
    assert "Seats <b>& more</b>" in text
    assert "Smith & <Sons>" in text
    assert "<i>1 A&B Road</i>" in text


def test_r_pdf_1_chart_without_usage_says_so():
    doc = invoice_doc(chart=Chart("Daily hours"))
    text = pdf_text(doc)
    assert "Daily hours" in text
    assert "No usage in this period" in text


def test_r_pdf_1_same_record_renders_the_same_bytes():
    assert render_invoice_pdf(invoice_doc()) == render_invoice_pdf(invoice_doc())


# --- R-partner-1: usage statements carry no cost -------------------------------------------------


def statement_doc() -> InvoiceDocument:
    return invoice_doc(statement_record(), partner="Acme Partners")


def test_r_partner_1_statement_is_titled_and_billed_through_the_partner():
    text = pdf_text(statement_doc())
    assert "Usage statement" in text
    assert "Billed through Acme Partners" in text
    assert "NORTHWIND-000002" in text
    assert "Mar 10, 2026 \u2013 Apr 9, 2026" in text
    assert "Page 1 of 1" in text


def test_r_partner_1_statement_shows_quantities_only():
    text = pdf_text(statement_doc())
    assert "Cloud CX 2 User \u2013 Prepay" in text
    assert "Quantity" in text
    assert re.search(r"^3$", text, re.MULTILINE)
    assert re.search(r"^1$", text, re.MULTILINE)
    for symbol in CURRENCY_SYMBOLS:
        assert symbol not in text
    for cost_word in ("Rate", "Amount", "Subtotal", "Total", "Taxes", "Payable", "ACH"):
        assert cost_word not in text
    for cost in ("95.00", "285.00", "160.00", "445.00", "27.81", "472.81", "6.25%"):
        assert cost not in text


def test_r_partner_1_long_statement_repeats_headers_on_every_page():
    record = statement_record()
    record["lines"] = [
        {k: v for k, v in charge_line(n).items() if k not in ("rate", "amount")}
        for n in range(1, 71)
    ]
    pages = page_texts(render_invoice_pdf(invoice_doc(record, partner="Acme Partners")))
    assert len(pages) > 1
    for i, page in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in page
        assert "Description" in page
