"""The daily run and the close on fakes: what is due, numbering, idempotence, PDFs."""

from __future__ import annotations

import contextlib
from datetime import date
from decimal import Decimal

from job_books import LICENSES, LOGINS

FEB_1 = date(2026, 2, 1)
CLOSE_P0 = date(2026, 2, 16)


def _usage(books):
    books.upload(
        "usage/acme/licenses/l.csv",
        "\n".join(
            [
                LICENSES,
                "u1,ana@acme.example,CX2,2026-01-15T00:00:00Z,",
                "u2,ben@acme.example,CX3,2026-01-15T00:00:00Z,",
            ]
        ),
        FEB_1,
    )
    books.upload(
        "usage/acme/logins/s.csv",
        "\n".join(
            [
                LOGINS,
                "s1,u1,ana@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z",
                "s2,u2,ben@acme.example,web,2026-02-01T08:00:00Z,2026-02-01T16:00:00Z",
            ]
        ),
        FEB_1,
    )


def test_daily_sends_one_message_per_thing_due_with_its_identity(books):
    books.contract()
    books.daily(CLOSE_P0)
    (message,) = books.queue.sent
    assert message["id"] == "2026-02-16:acme:period:0"
    assert (message["kind"], message["period_index"], message["issue_date"]) == (
        "period",
        0,
        "2026-02-15",
    )


def test_r_sub_2_period_close_bills_commitment_and_overage_numbered_from_one(books):
    books.contract()
    _usage(books)
    (number,) = books.run_daily(CLOSE_P0)

    assert number == "ACME-000001"
    invoice = books.ledger.invoice("acme", number).invoice
    lines = {line.product: (line.quantity, line.amount) for line in invoice.lines}
    # u1 is CX2 (within the commitment of 2), u2 is CX3 overage
    assert lines == {
        "CX2_PREPAY": (Decimal(2), Decimal("190.00")),
        "CX3": (Decimal(1), Decimal("160.00")),
    }
    assert invoice.subtotal == Decimal("350.00")
    assert invoice.total == Decimal("371.88")  # 350.00 + 6.25 % tax (21.875 -> 21.88)
    assert books.orgs.get("acme").state.closed_periods == 1


def test_r_invoice_1_a_repeated_close_issues_nothing_more(books):
    books.contract()
    _usage(books)
    books.run_daily(CLOSE_P0)
    assert books.run_daily(CLOSE_P0) == []  # nothing due any more
    from cxbill.domain.schedule import Due

    assert books.close(Due("acme", "period", date(2026, 2, 15), 0)) is None
    assert len(books.ledger.invoices) == 1


def test_r_pdf_2_each_issued_invoice_gets_its_pdf_and_digest(books):
    books.contract()
    _usage(books)
    (number,) = books.run_daily(CLOSE_P0)

    issued = books.ledger.invoice("acme", number)
    assert issued.pdf_key == f"invoices/acme/{number}.pdf"
    assert books.documents.objects[issued.pdf_key].startswith(b"%PDF ACME-000001 371.88")


def test_r_invoice_2_numbers_are_gap_free_across_one_time_and_period_invoices(books):
    books.contract(one_time=[{"description": "Setup", "amount": "100.00", "date": "2026-02-16"}])
    numbers = books.run_daily(CLOSE_P0)

    assert numbers == ["ACME-000001", "ACME-000002"]
    kinds = [books.ledger.invoice("acme", n).invoice.kind for n in numbers]
    assert kinds == ["period", "one_time"]  # issue dates 02-15, then 02-16


def test_r_invoice_6_late_usage_becomes_an_adjustment_on_the_next_close(books):
    books.contract()
    _usage(books)
    books.run_daily(CLOSE_P0)
    books.upload(
        "usage/acme/logins/late.csv",
        "\n".join([LOGINS, "s3,u3,cy@acme.example,web,2026-01-25T08:00:00Z,2026-01-25T09:00:00Z"]),
        date(2026, 2, 20),
    )
    (number,) = books.run_daily(date(2026, 3, 16))

    invoice = books.ledger.invoice("acme", number).invoice
    adjustment = next(line for line in invoice.lines if line.product == "adjustment:CX1")
    assert (adjustment.quantity, adjustment.amount) == (Decimal(1), Decimal("90.00"))
    assert books.orgs.get("acme").late_periods == frozenset()


def test_r_ops_2_a_poison_org_never_stops_the_others(books, monkeypatch):
    books.contract()
    books.contract(org_id="bravo", name="Bravo")
    get = books.orgs.get

    def poisoned(org_id):
        if org_id == "acme":
            raise ValueError("stored contract no longer validates")
        return get(org_id)

    monkeypatch.setattr(books.orgs, "get", poisoned)
    run = books.daily(CLOSE_P0)

    assert run.failed_orgs == ["acme"]
    assert [m["org_id"] for m in books.queue.sent] == ["bravo"]


def test_r_ops_2_the_daily_run_asks_again_for_a_pdf_that_was_never_stored(books, monkeypatch):
    books.contract()
    _usage(books)
    render = books.close.render
    monkeypatch.setattr(books.close, "render", lambda doc: 1 / 0)
    books.daily(CLOSE_P0)
    (message,) = books.queue.sent
    with contextlib.suppress(ZeroDivisionError):  # a poison render: dead-lettered
        books.close.close_message(message)  # the record is written, the PDF is not
    assert books.ledger.invoice("acme", "ACME-000001").pdf_key is None

    monkeypatch.setattr(books.close, "render", render)
    assert books.run_daily(date(2026, 2, 17)) == [None]  # a "pdf" message: nothing issued

    assert books.ledger.invoice("acme", "ACME-000001").pdf_key == "invoices/acme/ACME-000001.pdf"
    assert books.queue.sent[0]["kind"] == "pdf"


def test_r_ops_2_the_daily_run_reports_how_long_the_oldest_due_org_has_waited(books):
    books.contract()
    run = books.daily(date(2026, 2, 18))
    assert run.oldest_due == date(2026, 2, 16)
