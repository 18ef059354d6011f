"""The ingest job's vectorized branch (issue 8) on fakes: a batch the reader is sure of is stored,
marked late (R-ingest-4) and checked for moved-out rows (R-ingest-8) exactly as the row by row
path does it; when it is not sure, the row by row path decides, with its report.

The DuckDB reader itself is compared with the exact validator in
tests/integration/test_vectorized.py."""

from __future__ import annotations

from datetime import date

from fakes import FakeVectorizedReader
from job_books import LOGINS, Books

DEVICES = "device_id,type,active_from,active_to"
KINDS = ("logins", "licenses", "devices", "numbers")


def _books(sure: bool | None) -> tuple[Books, FakeVectorizedReader | None]:
    books = Books()
    reader = None if sure is None else FakeVectorizedReader(sure=sure, kinds=KINDS)
    books.ingest.vectorized = reader
    return books, reader


def _story(books: Books) -> list:
    """Uploads before and after a close: late rows, corrections moving rows into and out of the
    closed period, a repeated identity, a rejected file."""
    books.contract(devices={"physical_edge": {"monthly": "250.00"}})
    outcomes = [
        books.upload(
            "usage/acme/logins/a.csv",
            LOGINS + "\ns1,u1,ana@acme.example,web,2026-01-20T08:00:00Z,2026-01-20T09:00:00Z"
            "\ns2,u2,bo@acme.example,desktop,2026-01-21T08:00:00Z,2026-01-21T09:00:00Z\n",
            date(2026, 1, 22),
        ),
        books.upload(
            "usage/acme/devices/d.csv",
            f"{DEVICES}\nedge-1,physical_edge,2026-01-20T00:00:00Z,\n",
            date(2026, 1, 22),
        ),
    ]
    books.run_daily(date(2026, 2, 16))  # closes period 0
    outcomes += [
        # s1 moves out of the closed period, s3 is new and late, s2 repeated (last row wins)
        books.upload(
            "usage/acme/logins/a.csv",
            LOGINS + "\ns1,u1,ana@acme.example,web,2026-02-20T08:00:00Z,2026-02-20T09:00:00Z"
            "\ns3,u3,cy@acme.example,mobile,2026-01-25T08:00:00Z,2026-01-25T10:00:00Z"
            "\ns2,u2,bo@acme.example,web,2026-02-21T08:00:00Z,2026-02-21T09:00:00Z"
            "\ns2,u2,bo@acme.example,desktop,2026-02-22T08:00:00Z,2026-02-22T09:00:00Z\n",
            date(2026, 2, 23),
        ),
        # the device never ran in period 0
        books.upload(
            "usage/acme/devices/d.csv",
            f"{DEVICES}\nedge-1,physical_edge,2026-01-20T00:00:00Z,2026-01-20T00:00:00Z\n",
            date(2026, 2, 23),
        ),
        books.upload(  # rejected: a Feb 30th, on line 3
            "usage/acme/logins/bad.csv",
            LOGINS + "\ns4,u4,,web,2026-02-20T08:00:00Z,2026-02-20T09:00:00Z"
            "\ns5,u5,,web,2026-02-30T08:00:00Z,2026-02-30T09:00:00Z\n",
            date(2026, 2, 23),
        ),
    ]
    books.run_daily(date(2026, 3, 16))
    return outcomes


def _state(books: Books) -> tuple:
    records = {
        key: {k: v for k, v in entry.items() if k != "processed_at"}
        for key, entry in books.ingestions.entries.items()
    }
    invoices = [
        (i.invoice.number, i.invoice.as_json())
        for i in books.ledger.issued_between("acme", date(2026, 1, 1), date(2026, 12, 31))
    ]
    return (
        dict(books.usage.batches),
        books.orgs.get("acme").late_periods,
        records,
        {k: v for k, v in books.documents.objects.items() if k.startswith("rejections/")},
        invoices,
    )


def test_the_vectorized_branch_stores_and_marks_exactly_what_the_row_by_row_path_does():
    exact, _ = _books(None)
    fast, reader = _books(True)

    assert _story(fast) == _story(exact)
    assert _state(fast) == _state(exact)
    assert reader is not None and len(reader.batches) == 4  # every file but the rejected one
    assert all(batch.closed for batch in reader.batches)
    assert [len(b.late) for b in reader.batches] == [0, 0, 1, 1]  # s3; the device (span start)


def test_when_the_reader_is_not_sure_the_row_by_row_path_decides():
    exact, _ = _books(None)
    unsure, reader = _books(False)

    outcomes = _story(unsure)

    assert outcomes == _story(exact)
    assert _state(unsure) == _state(exact)
    assert outcomes[-1].status == "rejected"
    report = unsure.documents.objects["rejections/usage/acme/logins/bad.csv.json"]
    assert [e["line"] for e in report["errors"]] == [3]
