"""The daily run and the close on the local stack: dates, numbering, PDFs (SPEC 3, 5.6, 6, 9)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from cxbill.adapters.people import format_money
from cxbill.jobs import wiring

pytestmark = pytest.mark.integration

MAR_10 = date(2026, 3, 10)  # activation: period 0 is [03-10, 04-10), period 1 [04-10, 05-10)
LICENSES = (
    b"user_id,email,product,assigned_at,unassigned_at\n"
    b"u1,ana@acme.example,CX2,2026-03-01T00:00:00Z,\n"
    b"u2,ben@acme.example,CX3,2026-03-01T00:00:00Z,\n"
    b"u3,cy@acme.example,CX2,2026-03-01T00:00:00Z,\n"
    b"u3,cy@acme.example,DIGITAL,2026-03-01T00:00:00Z,\n"
)
LOGINS = (
    b"session_id,user_id,email,client,login_at,logout_at\n"
    b"s1,u1,ana@acme.example,desktop,2026-03-11T08:00:00Z,2026-03-11T16:00:00Z\n"
    b"s2,u2,ben@acme.example,web,2026-03-12T08:00:00Z,2026-03-12T16:00:00Z\n"
    b"s3,u3,cy@acme.example,mobile,2026-03-13T08:00:00Z,2026-03-13T16:00:00Z\n"
)


@pytest.fixture
def acme(cloud, make_contract):
    """acme activated 03-10, committed to 2 CX2 users (so every close has a line)."""
    contract = make_contract(activation_date="2026-03-10", commitments={"CX2": 2})
    cloud.upload_contract(contract, MAR_10)
    return cloud


@pytest.fixture
def with_usage(acme):
    acme.set_day(MAR_10)
    acme.upload("usage/acme/licenses/all.csv", LICENSES)
    acme.upload("usage/acme/logins/march.csv", LOGINS)
    return acme


def numbers(cloud, org_id: str = "acme") -> list[str]:
    return [i["number"] for i in cloud.invoices(org_id)]


def gap_free(count: int, org_id: str = "ACME") -> list[str]:
    return [f"{org_id}-{n:06d}" for n in range(1, count + 1)]


# --- R-period-4: the close grace and the issue date -------------------------------------------


def test_r_period_4_period_ending_04_10_is_closed_by_the_run_of_04_11(acme):
    acme.run_daily(date(2026, 4, 9))
    acme.run_daily(date(2026, 4, 10))  # E = 04-10 00:00; E + 24h has not come yet
    assert acme.invoices("acme") == []

    acme.run_daily(date(2026, 4, 11))

    (invoice,) = acme.invoices("acme")
    assert invoice["kind"] == "period"
    assert invoice["issue_date"] == "2026-04-10"
    assert invoice["due_date"] == "2026-05-10"  # R-invoice-3: Net 30
    assert (invoice["period_start"], invoice["period_end"]) == (
        "2026-03-10T00:00:00Z",
        "2026-04-10T00:00:00Z",
    )


# --- R-invoice-1/2: exactly once, gap-free ------------------------------------------------------


def test_r_invoice_1_daily_run_twice_on_the_same_day_issues_one_invoice(acme):
    acme.run_daily(date(2026, 4, 11))
    acme.run_daily(date(2026, 4, 11))

    assert numbers(acme) == ["ACME-000001"]


def test_r_invoice_1_redelivered_close_message_issues_nothing_more(acme, capture, lambda_context):
    events = capture(acme, "close")
    acme.run_daily(date(2026, 4, 11))
    (event,) = events
    close = acme.functions["close"].handler

    # The same message again (SQS delivers at least once), and the same due re-offered by a
    # later run (a new message: Powertools idempotency does not catch it, the ledger must).
    assert close(event, lambda_context("close"))["batchItemFailures"] == []
    later = copy.deepcopy(event)
    body = json.loads(later["Records"][0]["body"])
    later["Records"][0]["body"] = json.dumps({**body, "run_date": "2026-04-12"})
    later["Records"][0]["messageId"] = "a-later-run"
    assert close(later, lambda_context("close"))["batchItemFailures"] == []

    assert numbers(acme) == ["ACME-000001"]
    acme.run_daily(date(2026, 5, 11))  # the next close takes the next number: no gap
    assert numbers(acme) == gap_free(2)
    assert acme.org("acme").invoice_seq == 2


def test_r_invoice_2_one_time_before_period_on_the_same_date(cloud, make_contract):
    contract = make_contract(
        activation_date="2026-03-10",
        commitments={"CX2": 2},
        one_time=[
            {"description": "Enablement package", "amount": "1500.00", "date": "2026-03-10"},
            {"description": "Admin training", "amount": "800.00", "date": "2026-04-10"},
        ],
        hardware=[
            {"description": "Edge appliance", "amount": "4000.00", "shipped_at": "2026-04-10"}
        ],
    )
    cloud.upload_contract(contract, MAR_10)

    cloud.run_daily(date(2026, 4, 11))  # one run issues all three

    invoices = cloud.invoices("acme")
    assert [(i["number"], i["kind"], i["issue_date"]) for i in invoices] == [
        ("ACME-000001", "one_time", "2026-03-10"),
        ("ACME-000002", "one_time", "2026-04-10"),
        ("ACME-000003", "period", "2026-04-10"),
    ]
    same_day = invoices[1]
    assert [(line["product"], line["section"], line["amount"]) for line in same_day["lines"]] == [
        ("one_time", "Core services and fees", "800.00"),
        ("hardware", "Device charges", "4000.00"),
    ]
    assert (same_day["period_start"], same_day["period_end"]) == (
        "2026-04-10T00:00:00Z",
        "2026-04-11T00:00:00Z",
    )


def test_r_invoice_1_contract_uploaded_late_catches_up_with_nominal_dates(cloud, make_contract):
    contract = make_contract(
        commitments={"CX2": 2},  # activated 2026-01-15
        one_time=[{"description": "Enablement", "amount": "500.00", "date": "2026-01-15"}],
    )
    cloud.upload_contract(contract, date(2026, 4, 20))

    cloud.run_daily(date(2026, 4, 20))

    got = [
        (i["number"], i["kind"], i["issue_date"], i["due_date"], i["period_start"][:10])
        for i in cloud.invoices("acme")
    ]
    assert got == [
        ("ACME-000001", "one_time", "2026-01-15", "2026-02-14", "2026-01-15"),
        ("ACME-000002", "period", "2026-02-15", "2026-03-17", "2026-01-15"),
        ("ACME-000003", "period", "2026-03-15", "2026-04-14", "2026-02-15"),
        ("ACME-000004", "period", "2026-04-15", "2026-05-15", "2026-03-15"),
    ]
    assert cloud.org("acme").closed_periods == 3  # [04-15, 05-15) is not over yet


# --- R-pdf-1/2: the PDF -----------------------------------------------------------------------


def test_r_pdf_2_pdf_is_stored_under_the_number_with_its_sha256(with_usage):
    with_usage.run_daily(date(2026, 4, 11))

    (item,) = with_usage.ledger("acme")
    assert item.pdf_key == f"invoices/acme/{item.number}.pdf" == "invoices/acme/ACME-000001.pdf"
    pdf = with_usage.get_document(item.pdf_key)
    assert pdf.startswith(b"%PDF-")
    assert item.pdf_sha256 == hashlib.sha256(pdf).hexdigest()


def test_r_pdf_1_pdf_text_holds_the_record_amounts(with_usage):
    with_usage.run_daily(date(2026, 4, 11))

    (item,) = with_usage.ledger("acme")
    record = json.loads(item.record)
    pages = PdfReader(io.BytesIO(with_usage.get_document(item.pdf_key))).pages
    text = " ".join(" ".join(page.extract_text() for page in pages).split())

    # CX2 prepay 2 x 95.00, CX2 overage 0 (actual 2), CX3 1 x 160.00, DIGITAL 1 x 20.00
    assert {line["product"]: line["amount"] for line in record["lines"]} == {
        "CX2_PREPAY": "190.00",
        "CX3": "160.00",
        "DIGITAL": "20.00",
    }
    assert [t["amount"] for t in record["taxes"]] == ["23.13", "3.70"]
    usd = [
        record["total"],
        record["subtotal"],
        *(line["amount"] for line in record["lines"]),
        *(tax["amount"] for tax in record["taxes"]),
    ]
    for amount in usd:
        assert format_money(Decimal(amount), "USD") in text, amount
    assert format_money(Decimal(record["total"]), "USD") == "$396.83"
    assert "Page 1 of" in text
    assert record["number"] in text


def test_close_failing_after_the_record_is_written_keeps_it_and_retry_adds_the_pdf(
    with_usage, monkeypatch, capture
):
    job = wiring.close_job()
    render = job.render
    at_failure = []

    def fails_once(doc):
        if not at_failure:
            at_failure.extend((i.number, i.pdf_key) for i in with_usage.ledger("acme"))
            raise RuntimeError("renderer crashed")
        return render(doc)

    monkeypatch.setattr(job, "render", fails_once)
    events = capture(with_usage, "close")

    with_usage.run_daily(date(2026, 4, 11))  # the failed message is delivered again

    assert at_failure == [("ACME-000001", None)]  # the record was written before the PDF
    first, retry = events  # the same SQS message, twice
    assert [r["messageId"] for r in retry["Records"]] == [r["messageId"] for r in first["Records"]]
    assert with_usage.dead_letters == []
    (item,) = with_usage.ledger("acme")  # no second invoice
    pdf = with_usage.get_document("invoices/acme/ACME-000001.pdf")
    assert (item.number, item.pdf_key, item.pdf_sha256) == (
        "ACME-000001",
        "invoices/acme/ACME-000001.pdf",
        hashlib.sha256(pdf).hexdigest(),
    )
    assert with_usage.org("acme").invoice_seq == 1
    with_usage.run_daily(date(2026, 5, 11))
    assert numbers(with_usage) == gap_free(2)


def test_r_pdf_5_invoice_pdfs_are_write_once_under_compliance_lock(with_usage):
    with_usage.run_daily(date(2026, 4, 11))
    key = "invoices/acme/ACME-000001.pdf"
    head = with_usage.s3.head_object(Bucket=with_usage.stack.documents_bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    years = head["ObjectLockRetainUntilDate"].year - date.today().year
    assert years == 10  # the template's InvoiceRetentionYears default


def test_r_ops_2_a_pdf_dead_lettered_by_the_close_is_rendered_by_the_next_daily_run(
    with_usage, monkeypatch
):
    job = wiring.close_job()
    render = job.render

    def broken(doc):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(job, "render", broken)
    with_usage.run_daily(date(2026, 4, 11))
    assert len(with_usage.dead_letters) == 1  # the close message, after its retries
    (item,) = with_usage.ledger("acme")
    assert (item.number, item.pdf_key) == ("ACME-000001", None)

    monkeypatch.setattr(job, "render", render)
    with_usage.run_daily(date(2026, 4, 12))

    (item,) = with_usage.ledger("acme")
    assert item.pdf_key == "invoices/acme/ACME-000001.pdf"
    assert item.pdf_pending is None  # off the pending index
