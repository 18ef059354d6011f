"""The invoice and report desks on fakes: what the API answers."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from job_books import LICENSES, LOGINS

from cxbill.jobs.invoices import BadRequest, NotFound, parse_day, parse_range

NOW = datetime(2026, 3, 1, 12, 0)


@pytest.fixture
def closed(books):
    books.contract()
    books.upload(
        "usage/acme/logins/s.csv",
        "\n".join(
            [LOGINS, "s1,u1,ana@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z"]
        ),
        date(2026, 2, 1),
    )
    books.upload(
        "usage/acme/licenses/l.csv",
        LICENSES + "\nu1,ana@acme.example,CX1,2026-01-15T00:00:00Z,\n",
        date(2026, 2, 1),
    )
    books.run_daily(date(2026, 2, 16))
    return books


def test_list_shows_the_range_newest_first(closed):
    (row,) = closed.desk.list("acme", date(2026, 2, 1), date(2026, 2, 28))
    assert (row["number"], row["kind"], row["total"]) == ("ACME-000001", "period", "297.50")
    assert closed.desk.list("acme", date(2026, 3, 1), date(2026, 3, 31)) == []


def test_r_api_2_pdf_url_names_the_invoice_pdf_and_its_expiry(closed):
    answer = closed.desk.pdf_url("acme", "ACME-000001", NOW)
    assert "invoices/acme/ACME-000001.pdf" in answer["url"]
    assert answer["expires_at"] == "2026-03-01T12:05:00"


def test_r_api_4_an_overlong_or_unknown_number_is_not_found(closed):
    with pytest.raises(NotFound):
        closed.desk.record("acme", "X" * 65)
    with pytest.raises(NotFound):
        closed.desk.record("acme", "ACME-000009")
    with pytest.raises(NotFound):
        closed.desk.record("other", "ACME-000001")


@pytest.mark.parametrize("text", ["9999-12-31", "1999-12-31", "2100-01-01", "20260101", "x"])
def test_r_api_4_dates_outside_the_century_are_bad_requests(text):
    with pytest.raises(BadRequest):
        parse_day(text)


def test_r_api_3_a_range_over_366_days_is_a_bad_request():
    with pytest.raises(BadRequest):
        parse_range("2026-01-01", "2027-01-02", date(2026, 6, 1))
    assert parse_range("2026-01-01", "2027-01-01", date(2026, 6, 1)) == (
        date(2026, 1, 1),
        date(2027, 1, 1),
    )


def test_r_bill_1_bill_to_date_is_an_estimate_of_the_current_period(closed):
    estimate = closed.desk.bill_to_date("acme", date(2026, 3, 1))
    assert estimate["estimate"] is True
    assert estimate["period_start"] == "2026-02-15T00:00:00Z"
    assert estimate["period_end"] == "2026-03-01T00:00:00Z"


def test_r_report_1_a_report_is_stored_and_handed_out_signed(closed):
    answer = closed.reports.generate(
        "acme", "user_hours", date(2026, 1, 20), date(2026, 1, 20), NOW
    )
    key = answer["url"].split("documents.example/")[1].split("?")[0]
    text = closed.documents.objects[key].decode()
    assert text.splitlines() == [
        "date,user_id,email,logged_in",
        "2026-01-20,u1,ana@acme.example,08:00:00:000",
    ]


def test_an_unknown_report_is_not_found(closed):
    with pytest.raises(NotFound):
        closed.reports.generate("acme", "nope", date(2026, 1, 1), date(2026, 1, 2), NOW)


def test_r_bill_1_an_estimate_with_nothing_billed_keeps_its_whole_shape(books):
    books.contract(
        commitments={},
        currency="JPY",
        prices={
            "CX1": {"overage": "9000"},
            "CX2": {"overage": "11000"},
            "CX3": {"overage": "16000"},
        },
    )
    estimate = books.desk.bill_to_date("acme", date(2026, 1, 20))
    assert (estimate["period_start"], estimate["period_end"]) == (
        "2026-01-15T00:00:00Z",
        "2026-01-20T00:00:00Z",
    )
    assert (estimate["lines"], estimate["taxes"]) == ([], [])
    assert (estimate["subtotal"], estimate["total"]) == ("0", "0")  # JPY has no minor units
