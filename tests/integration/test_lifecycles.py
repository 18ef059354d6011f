"""Org lifecycles through the whole stack: trials that expire and convert, partner statements,
late usage adjusted on the next close, the bill to date and the subscription view.

Expected amounts are worked out by hand from the SPEC rules named in each test."""

from __future__ import annotations

from datetime import date

import pytest
from pypdf import PdfReader

from cxbill.adapters.models import LedgerItem

pytestmark = pytest.mark.integration

LICENSES = "user_id,email,product,assigned_at,unassigned_at\n"
LOGINS = "session_id,user_id,email,client,login_at,logout_at\n"
CLAIMS = {"org_id": "acme", "permissions": ["billing:subscription:view"]}


def logins(*rows: str) -> bytes:
    return (LOGINS + "".join(f"{r}\n" for r in rows)).encode()


def licenses(*rows: str) -> bytes:
    return (LICENSES + "".join(f"{r}\n" for r in rows)).encode()


def pdf_text(books, item: LedgerItem) -> str:
    import io

    reader = PdfReader(io.BytesIO(books.get_document(item.pdf_key)))
    return "\n".join(page.extract_text() for page in reader.pages)


# -- trials (R-trial-1, R-trial-2) ------------------------------------------------------------


@pytest.fixture
def trial(cloud, make_contract):
    contract = make_contract("kiwi", activation_date="2026-01-05", trial=True)
    contract.pop("one_time", None)
    cloud.upload_contract(contract, date(2026, 1, 5))
    return cloud, contract


def test_r_trial_1_usage_before_expiry_accepted_and_never_invoiced(trial):
    books, _ = trial
    books.upload_on(
        date(2026, 2, 1),
        "usage/kiwi/logins/a.csv",
        logins("t1,u1,a@k,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
    )
    for day in (date(2026, 2, 6), date(2026, 3, 6)):
        books.run_daily(day)
    assert books.ingestion("usage/kiwi/logins/a.csv").status == "accepted"
    assert books.invoices("kiwi") == []


def test_r_trial_1_usage_from_the_expiry_instant_rejected_with_that_reason(trial):
    books, _ = trial
    books.upload_on(date(2027, 1, 4), "usage/kiwi/logins/last-day.csv", logins())
    books.upload_on(date(2027, 1, 5), "usage/kiwi/logins/expired.csv", logins())
    assert books.ingestion("usage/kiwi/logins/last-day.csv").status == "accepted"
    record = books.ingestion("usage/kiwi/logins/expired.csv")
    assert record.status == "rejected"
    assert (
        "expired on 2027-01-05"
        in books.rejection("usage/kiwi/logins/expired.csv")["errors"][0]["message"]
    )


def test_r_trial_2_conversion_needs_an_activation_on_or_after_the_upload(trial):
    books, contract = trial
    books.upload_contract(
        {**contract, "trial": False, "activation_date": "2027-01-04"}, date(2027, 1, 5)
    )
    latest = max(books.ingestions("contracts/kiwi.json"), key=lambda v: v.received_at)
    assert latest.status == "rejected" and "R-trial-2" in latest.reason
    assert '"trial": true' in books.org("kiwi").contract  # the trial terms stay in force


def test_r_trial_2_converted_org_bills_from_its_new_activation_only(trial):
    books, contract = trial
    # usage of the trial months, then the conversion contract with an enablement dated in the
    # trial (never billed) and one on the new activation date (billed)
    books.upload_on(
        date(2026, 6, 2),
        "usage/kiwi/licenses/all.csv",
        licenses("u1,a@k,CX2,2026-01-05T00:00:00Z,"),
    )
    books.upload_on(
        date(2026, 6, 2),
        "usage/kiwi/logins/trial.csv",
        logins("t1,u1,a@k,web,2026-06-01T09:00:00Z,2026-06-01T10:00:00Z"),
    )
    paid = {
        **contract,
        "trial": False,
        "activation_date": "2026-06-10",
        "one_time": [
            {"description": "Trial setup", "amount": "100.00", "date": "2026-06-01"},
            {"description": "Go-live", "amount": "200.00", "date": "2026-06-10"},
        ],
    }
    books.upload_contract(paid, date(2026, 6, 9))
    books.upload_on(
        date(2026, 6, 20),
        "usage/kiwi/logins/paid.csv",
        logins("p1,u1,a@k,web,2026-06-15T09:00:00Z,2026-06-15T10:00:00Z"),
    )
    for day in (date(2026, 6, 10), date(2026, 7, 11)):
        books.run_daily(day)
    one_time, period = books.invoices("kiwi")
    assert [line["description"] for line in one_time["lines"]] == ["Go-live"]
    assert (one_time["number"], one_time["issue_date"]) == ("KIWI-000001", "2026-06-10")
    # period 0 anchors on 06-10; the trial's 06-01 session never bills, the 06-15 one does
    assert (period["period_start"], period["period_end"]) == (
        "2026-06-10T00:00:00Z",
        "2026-07-10T00:00:00Z",
    )
    assert [(line["product"], line["quantity"], line["amount"]) for line in period["lines"]] == [
        ("CX2", "1", "115.00")
    ]
    assert [t["amount"] for t in period["taxes"]] == ["7.19", "1.15"]
    assert period["total"] == "123.34"


# -- partner statements (R-partner-1, R-partner-2) --------------------------------------------


def test_r_partner_1_statement_json_and_pdf_carry_no_amount(cloud, make_contract):
    contract = make_contract("lisboa", partner="Atlantic Partners SA", currency="EUR")
    cloud.upload_contract(contract, date(2026, 1, 15))
    cloud.upload_on(
        date(2026, 1, 15),
        "usage/lisboa/licenses/all.csv",
        licenses("u1,a@l,CX3,2026-01-01T00:00:00Z,"),
    )
    cloud.upload_on(
        date(2026, 2, 1),
        "usage/lisboa/logins/jan.csv",
        logins("s1,u1,a@l,desktop,2026-01-20T09:00:00Z,2026-01-20T17:00:00Z"),
    )
    cloud.run_daily(date(2026, 2, 16))
    (item,) = cloud.ledger("lisboa")
    record = cloud.invoices("lisboa")[0]
    assert record["kind"] == "statement"
    assert not {"subtotal", "taxes", "total"} & set(record)
    assert all(
        set(line)
        == {"section", "product", "description", "service_start", "service_end", "quantity"}
        for line in record["lines"]
    )
    assert {line["product"]: line["quantity"] for line in record["lines"]} == {"CX3": "1"}
    text = pdf_text(cloud, item)
    assert "Usage statement" in text and "Atlantic Partners SA" in text
    assert "€" not in text and "160.00" not in text


# -- late usage (R-ingest-4, R-invoice-6) ------------------------------------------------------


def test_r_invoice_6_late_usage_billed_as_adjustment_on_next_close(acme):
    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX1,2026-01-01T00:00:00Z,", "u2,b@a,CX3,2026-01-01T00:00:00Z,"),
    )
    acme.upload_on(
        date(2026, 2, 1),
        "usage/acme/logins/jan.csv",
        logins("s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
    )
    acme.run_daily(date(2026, 2, 16))  # closes [01-15, 02-15): CX1 1 at 90.00
    acme.upload_on(
        date(2026, 2, 20),
        "usage/acme/logins/late.csv",
        logins("s2,u2,b@a,web,2026-02-01T09:00:00Z,2026-02-01T10:00:00Z"),
    )
    assert acme.ingestion("usage/acme/logins/late.csv").late_rows == 1
    acme.run_daily(date(2026, 3, 16))  # closes [02-15, 03-15) with the adjustment
    invoices = [r for r in acme.invoices("acme") if r["kind"] == "period"]
    first, second = invoices
    assert {line["product"] for line in first["lines"]} >= {"CX1"}
    (adjustment,) = [line for line in second["lines"] if line["product"].startswith("adjustment:")]
    assert adjustment == {
        "section": "Core services and fees",
        "product": "adjustment:CX3",
        "description": "Adjustment: Cloud CX 3 User (Jan 15, 2026 – Feb 14, 2026)",
        "service_start": "2026-01-15T00:00:00Z",
        "service_end": "2026-02-15T00:00:00Z",
        "quantity": "1",
        "rate": "160.00",
        "amount": "160.00",
    }
    # the issued invoice of the closed period never changes (R-invoice-6)
    assert not any(line["product"] == "CX3" for line in first["lines"])


def test_r_invoice_6_correction_downwards_gives_a_negative_adjustment(acme):
    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX3,2026-01-01T00:00:00Z,"),
    )
    acme.upload_on(
        date(2026, 2, 1),
        "usage/acme/logins/jan.csv",
        logins("s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
    )
    acme.run_daily(date(2026, 2, 16))
    acme.upload_on(
        date(2026, 2, 20),
        "usage/acme/logins/jan.csv",  # corrected: a Teams login
        logins("s1,u1,a@a,teams,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
    )
    acme.run_daily(date(2026, 3, 16))
    second = [r for r in acme.invoices("acme") if r["kind"] == "period"][1]
    (adjustment,) = [line for line in second["lines"] if line["product"] == "adjustment:CX3"]
    assert (adjustment["quantity"], adjustment["amount"]) == ("-1", "-160.00")


# -- bill to date and the subscription view (R-bill-1, SPEC 8) --------------------------------


def test_r_bill_1_estimate_covers_period_start_through_yesterday(acme, make_contract):
    acme.upload_contract(make_contract(commitments={"CX2": 2}), date(2026, 1, 15))
    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX1,2026-01-01T00:00:00Z,", "u2,b@a,CX3,2026-01-01T00:00:00Z,"),
    )
    acme.upload_on(
        date(2026, 1, 25),
        "usage/acme/logins/a.csv",
        logins(
            "s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z",
            "s2,u2,b@a,web,2026-01-24T09:00:00Z,2026-01-24T10:00:00Z",
        ),
    )
    response = acme.api("/orgs/acme/bill-to-date", CLAIMS, {"as_of": "2026-01-24"})
    assert response["status"] == 200
    body = response["body"]
    assert body["estimate"] is True
    assert (body["period_start"], body["period_end"]) == (
        "2026-01-15T00:00:00Z",
        "2026-01-24T00:00:00Z",
    )
    # u2's session on 01-24 is not in yet; CX2 commitment 2 × 95.00, CX1 1 × 90.00 = 280.00
    assert {line["product"]: line["amount"] for line in body["lines"]} == {
        "CX2_PREPAY": "190.00",
        "CX1": "90.00",
    }
    assert body["subtotal"] == "280.00"
    assert "number" not in body


def test_r_bill_1_trial_org_and_before_activation_have_none(acme, make_contract):
    acme.upload_contract(make_contract("kiwi", trial=True), date(2026, 1, 15))
    claims = {"org_id": "kiwi", "permissions": ["billing:all"]}
    assert acme.api("/orgs/kiwi/bill-to-date", claims, {"as_of": "2026-02-01"})["status"] == 404
    assert acme.api("/orgs/acme/bill-to-date", CLAIMS, {"as_of": "2026-01-01"})["status"] == 404


def test_subscription_view_assigned_committed_used(acme, make_contract):
    acme.upload_contract(make_contract(commitments={"CX2": 2}), date(2026, 1, 15))
    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses(
            "u1,a@a,CX2,2026-01-01T00:00:00Z,",
            "u2,b@a,CX2,2026-01-01T00:00:00Z,2026-01-20T00:00:00Z",
            "u3,c@a,CX3,2026-01-01T00:00:00Z,",
        ),
    )
    acme.upload_on(
        date(2026, 1, 25),
        "usage/acme/logins/a.csv",
        logins("s1,u2,b@a,web,2026-01-16T09:00:00Z,2026-01-16T10:00:00Z"),
    )
    response = acme.api("/orgs/acme/subscription", CLAIMS, {"as_of": "2026-01-25"})
    products = {p["product"]: p for p in response["body"]["products"]}
    assert products["CX2"] == {"product": "CX2", "assigned": 1, "committed": 2, "used": "1"}
    assert products["CX3"] == {"product": "CX3", "assigned": 1, "committed": 0, "used": "0"}


def test_subscription_view_needs_a_billing_permission(acme):
    response = acme.api("/orgs/acme/subscription", {"org_id": "acme", "permissions": []})
    assert response["status"] == 403


# -- the chart follows the license model (R-pdf-1) --------------------------------------------


@pytest.mark.parametrize(
    ("model", "title"),
    [
        ("named", "Daily billable users"),
        ("concurrent", "Daily sustained peak"),
        ("hourly", "Daily hours"),
    ],
)
def test_r_pdf_1_chart_series_per_license_model(cloud, make_contract, model, title):
    contract = make_contract("acme", license_model=model)
    if model == "hourly":
        contract.pop("commitments", None)
        for tier in ("CX1", "CX2", "CX3"):
            contract["prices"][tier]["hourly"] = "1.00"
    cloud.upload_contract(contract, date(2026, 1, 15))
    cloud.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX1,2026-01-01T00:00:00Z,"),
    )
    cloud.upload_on(
        date(2026, 2, 1),
        "usage/acme/logins/a.csv",
        logins("s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T11:00:00Z"),
    )
    cloud.run_daily(date(2026, 2, 16))
    item = [i for i in cloud.ledger("acme") if '"period"' in i.record][0]
    assert title in pdf_text(cloud, item)


def test_r_invoice_6_late_license_upgrade_moves_the_user_to_the_higher_tier(acme):
    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX1,2026-01-01T00:00:00Z,"),
    )
    acme.upload_on(
        date(2026, 2, 1),
        "usage/acme/logins/jan.csv",
        logins("s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
    )
    acme.run_daily(date(2026, 2, 16))
    # a still-open CX3 assignment from before the close arrives late
    acme.upload_on(
        date(2026, 2, 20),
        "usage/acme/licenses/upgrade.csv",
        licenses("u1,a@a,CX3,2026-02-01T00:00:00Z,"),
    )
    assert acme.ingestion("usage/acme/licenses/upgrade.csv").late_rows == 1
    acme.run_daily(date(2026, 3, 16))
    second = [r for r in acme.invoices("acme") if r["kind"] == "period"][1]
    adjustments = {
        line["product"]: (line["quantity"], line["amount"])
        for line in second["lines"]
        if line["product"].startswith("adjustment:")
    }
    assert adjustments == {"adjustment:CX1": ("-1", "-90.00"), "adjustment:CX3": ("1", "160.00")}


def test_r_invoice_6_late_usage_marked_during_a_close_is_not_lost(acme, monkeypatch):
    from cxbill.adapters.ledger import DynamoLedger, DynamoOrgs

    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX1,2026-01-01T00:00:00Z,", "u2,b@a,CX3,2026-01-01T00:00:00Z,"),
    )
    acme.upload_on(
        date(2026, 2, 1),
        "usage/acme/logins/jan.csv",
        logins("s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
    )
    acme.run_daily(date(2026, 2, 16))
    acme.upload_on(
        date(2026, 2, 20),
        "usage/acme/logins/late.csv",
        logins("s2,u2,b@a,web,2026-02-01T09:00:00Z,2026-02-01T10:00:00Z"),
    )
    issue, calls = DynamoLedger.issue, []

    def racing_issue(self, org, plan):
        calls.append(plan.close_key)
        if len(calls) == 1:  # an ingest marks period 0 late between the read and the write
            DynamoOrgs().note_usage("acme", {0})
        return issue(self, org, plan)

    monkeypatch.setattr(DynamoLedger, "issue", racing_issue)
    acme.run_daily(date(2026, 3, 16))
    assert calls == ["acme:period:1", "acme:period:1"]  # the first write was refused, re-planned
    periods = [r for r in acme.invoices("acme") if r["kind"] == "period"]
    assert [r["number"] for r in periods] == ["ACME-000001", "ACME-000002"]
    assert [line["product"] for line in periods[1]["lines"]] == ["adjustment:CX3"]
    assert not acme.org("acme").late_periods


@pytest.mark.parametrize("path", ["vectorized", "exact"])
def test_r_ingest_4_a_close_that_finishes_while_a_file_is_read_makes_its_rows_late(
    acme, monkeypatch, path
):
    import cxbill.jobs.ingest as ingest
    from cxbill.adapters.vectorized import DuckDBReader

    acme.upload_on(
        date(2026, 1, 15),
        "usage/acme/licenses/all.csv",
        licenses("u1,a@a,CX3,2026-01-01T00:00:00Z,"),
    )

    def then_close(read):  # period 0 closes after the file is read, before it is stored
        def read_then_close(*args, **kwargs):
            result = read(*args, **kwargs)
            acme.run_daily(date(2026, 2, 16))
            return result

        return read_then_close

    with monkeypatch.context() as m:
        if path == "vectorized":  # the file is read whole by the fast path (issue 8)
            m.setattr(DuckDBReader, "read", then_close(DuckDBReader.read))
        else:
            m.setattr(DuckDBReader, "kinds", frozenset())
            m.setattr(ingest, "read_usage", then_close(ingest.read_usage))
        acme.upload_on(
            date(2026, 2, 16),
            "usage/acme/logins/jan.csv",
            logins("s1,u1,a@a,web,2026-01-20T09:00:00Z,2026-01-20T10:00:00Z"),
        )
    assert acme.invoices("acme") == []  # the close saw no usage: nothing to invoice
    assert acme.org("acme").late_periods == {0}
    acme.run_daily(date(2026, 3, 16))
    (invoice,) = acme.invoices("acme")
    assert [(line["product"], line["amount"]) for line in invoice["lines"]] == [
        ("adjustment:CX3", "160.00")
    ]
