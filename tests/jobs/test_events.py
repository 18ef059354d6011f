"""R-ops-1 (events, once per fact) and R-pdf-3 (the seller copied at issue) on the jobs' fakes."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from fakes import FakeEvents
from job_books import LICENSES, Books, fake_render

from cxbill.domain.events import DETAIL_TYPES, SOURCE
from cxbill.domain.instants import date_ms
from cxbill.domain.issuer import Issuer
from cxbill.domain.ports import Upload
from cxbill.jobs.close import CloseJob
from cxbill.jobs.ingest import IngestJob

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
FEB_1, CLOSE_P0, CLOSE_P1 = date(2026, 2, 1), date(2026, 2, 16), date(2026, 3, 16)
ISSUER = {
    "legal_name": "Cloud CX Billing Inc.",
    "address": ["500 Harbor Blvd", "Boston, MA 02110"],
    "tax_id": "EIN 12-3456789",
    "email": "billing@cxbill.example",
    "remittance": ["ACH: First Demo Bank, account 000123456789"],
}


class Told(Books):
    """Books whose ingest and close publish to a fake bus and report invoices without seller."""

    def __init__(self) -> None:
        super().__init__()
        self.events = FakeEvents()
        self.without_seller: list[str] = []
        self.ingest = IngestJob(
            self.orgs,
            self.usage,
            self.uploads,
            self.documents,
            self.ingestions,
            self.held,
            self.events,
        )
        self.close = CloseJob(
            self.orgs,
            self.ledger,
            self.usage,
            self.documents,
            fake_render,
            self.events,
            lambda document: self.without_seller.append(document.invoice.number),
        )
        self.daily.ingest = self.ingest

    def licenses(self, day: date = FEB_1):
        rows = [LICENSES, "u1,ana@acme.example,CX2,2026-01-15T00:00:00Z,"]
        return self.upload("usage/acme/licenses/l.csv", "\n".join(rows), day)

    def issuer(self, key: str = "config/issuer.json", day: date = date(2026, 1, 2), **change):
        return self.upload(key, json.dumps({**ISSUER, **change}), day)


@pytest.fixture
def told() -> Told:
    return Told()


def schema(detail_type: str) -> dict:
    return json.loads((SCHEMAS / f"{detail_type}.schema.json").read_text())


def validate(events: FakeEvents) -> None:
    for event in events.published:
        assert event["source"] == SOURCE
        assert event["detail-type"] in DETAIL_TYPES
        jsonschema.validate(event["detail"], schema(event["detail-type"]))


# ------------------------------------------------------------------ R-ops-1


def test_r_ops_1_every_fact_is_published_once_and_validates(told):
    told.issuer()
    told.contract()
    told.licenses()
    told.upload("usage/acme/logins/bad.csv", "not,a,header\n", FEB_1)
    (number,) = told.run_daily(CLOSE_P0)

    validate(told.events)
    kinds = [e["detail-type"] for e in told.events.published]
    assert kinds == [
        "upload.accepted",  # the issuer
        "upload.accepted",  # the contract
        "upload.accepted",  # the licenses
        "upload.rejected",
        "invoice.issued",
        "invoice.pdf_ready",
    ]
    rejected = told.events.facts("upload.rejected")[0]
    assert rejected["report_key"] == "rejections/usage/acme/logins/bad.csv.json"
    assert rejected["report_key"] in told.documents.objects
    assert rejected["org_id"] == "acme" and rejected["errors"] >= 1
    contract = told.events.facts("upload.accepted")[1]
    assert (contract["key"], contract["org_id"], contract["rows"]) == (
        "contracts/acme.json",
        "acme",
        1,
    )
    issued = told.events.facts("invoice.issued")[0]
    invoice = told.ledger.invoice("acme", number).invoice
    assert issued == {
        "number": number,
        "org_id": "acme",
        "kind": "period",
        "total": str(invoice.total),
        "currency": "USD",
        "issue_date": "2026-02-15",
        "due_date": "2026-03-17",
        "event_id": issued["event_id"],
    }
    ready = told.events.facts("invoice.pdf_ready")[0]
    stored = told.ledger.invoice("acme", number)
    assert (ready["key"], ready["sha256"]) == (stored.pdf_key, stored.pdf_sha256)


def test_r_ops_1_a_repeated_delivery_or_close_publishes_nothing_more(told):
    told.contract()
    upload = Upload("contracts/acme.json", "v1", date_ms(date(2026, 1, 10)) + 1)
    assert told.ingest(upload).status == "duplicate"
    told.run_daily(CLOSE_P0)
    told.close.render_pdfs("acme", date(2026, 2, 15))
    assert [e["detail-type"] for e in told.events.published] == [
        "upload.accepted",
        "invoice.issued",
        "invoice.pdf_ready",
    ]


class Crash(BaseException):
    """A process dying mid-way: nothing catches it."""


def crash_once(monkeypatch, target: object, name: str, after: bool) -> None:
    """The first call of `target.name` dies, before or `after` it takes effect."""
    original = getattr(target, name)
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            if after:
                original(*args, **kwargs)
            raise Crash(name)
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, dying)


def test_r_ops_1_an_upload_retried_after_publishing_publishes_with_the_same_id(told, monkeypatch):
    crash_once(monkeypatch, told.events, "publish", after=True)
    upload = Upload("config/issuer.json", "v1", date_ms(date(2026, 1, 2)))
    told.uploads.put(upload.key, json.dumps(ISSUER), "v1")
    with pytest.raises(Crash):
        told.ingest(upload)
    assert told.ingestions.status(upload) is None  # not recorded: the message comes again
    assert told.ingest(upload).status == "accepted"
    assert len(told.events.published) == 2
    assert len(told.events.facts()) == 1
    assert told.events.published[0] == told.events.published[1]


def test_r_ops_1_a_close_retried_before_the_pdf_is_attached_repeats_only_with_the_same_ids(
    told, monkeypatch
):
    told.contract()
    told.licenses()
    crash_once(monkeypatch, told.ledger, "attach_pdf", after=False)
    told.queue.sent.clear()
    told.daily(CLOSE_P0)
    (message,) = told.queue.sent
    with pytest.raises(Crash):
        told.close.close_message(message)
    assert told.close.close_message(message) is None  # issued already: the PDF is finished
    closes = [e for e in told.events.published if e["detail-type"].startswith("invoice.")]
    assert len(closes) == 4
    assert len(told.events.facts("invoice.issued")) == 1
    assert len(told.events.facts("invoice.pdf_ready")) == 1
    validate(told.events)


def test_r_ops_1_a_held_upload_is_told_when_it_is_processed(told):
    told.licenses(date(2026, 1, 5))  # before its contract: held (R-ingest-7)
    assert told.events.published == []
    told.contract(date(2026, 1, 6))
    told.daily(date(2026, 1, 7))
    accepted = [e["key"] for e in told.events.facts("upload.accepted")]
    assert accepted == ["contracts/acme.json", "usage/acme/licenses/l.csv"]


# ------------------------------------------------------------------ R-pdf-3


def test_r_pdf_3_the_seller_in_force_is_copied_into_the_invoice(told):
    told.issuer()
    told.contract()
    told.licenses()
    (number,) = told.run_daily(CLOSE_P0)
    document = told.ledger.invoice("acme", number).document
    assert document.issuer == Issuer.from_json(ISSUER)
    assert document.record()["issuer"] == ISSUER
    assert told.without_seller == []


def test_r_pdf_3_a_later_upload_changes_only_later_invoices(told):
    told.issuer()
    told.contract()
    told.licenses()
    (first,) = told.run_daily(CLOSE_P0)
    told.issuer(day=date(2026, 3, 1), legal_name="Cloud CX Billing LLC")
    (second,) = told.run_daily(CLOSE_P1)
    assert told.ledger.invoice("acme", first).document.issuer.legal_name == ISSUER["legal_name"]
    assert told.ledger.invoice("acme", second).document.issuer.legal_name == "Cloud CX Billing LLC"


def test_r_pdf_3_latest_upload_wins_whichever_is_processed_last(told):
    for version, name, ms in (("v2", "Newer", 2000), ("v1", "Older", 1000)):
        told.uploads.put("config/issuer.json", json.dumps({**ISSUER, "legal_name": name}), version)
        told.ingest(Upload("config/issuer.json", version, date_ms(date(2026, 1, 2)) + ms))
    assert told.documents.get_issuer(None).legal_name == "Newer"


def test_r_pdf_3_a_per_currency_issuer_takes_precedence(told):
    told.issuer()
    told.issuer("config/issuer-USD.json", legal_name="Cloud CX Billing US Inc.")
    told.contract()
    told.licenses()
    (number,) = told.run_daily(CLOSE_P0)
    assert told.ledger.invoice("acme", number).document.issuer.legal_name == (
        "Cloud CX Billing US Inc."
    )


def test_r_pdf_3_a_general_issuer_for_other_currencies_leaves_the_invoice_without_seller(
    told, caplog
):
    told.issuer(currencies=["EUR", "GBP"])
    told.contract()
    told.licenses()
    with caplog.at_level(logging.WARNING, logger="cxbill.jobs.close"):
        (number,) = told.run_daily(CLOSE_P0)
    document = told.ledger.invoice("acme", number).document
    assert document.issuer is None
    assert "issuer" not in document.record()
    assert told.without_seller == [number]  # the operator's metric
    assert any("without a seller" in r.getMessage() for r in caplog.records)
    assert "without a seller" not in " ".join(document.invoice.warnings)  # not the customer's


def test_r_pdf_3_an_invalid_issuer_is_rejected_with_a_report_and_stores_nothing(told):
    outcome = told.issuer(email="not an address", tax_id="")
    assert outcome.status == "rejected"
    report = told.documents.objects["rejections/config/issuer.json.json"]
    assert {e["column"] for e in report["errors"]} == {"email", "tax_id"}
    assert told.documents.get_issuer(None) is None
    assert told.issuer("config/issuer-XYZ.json").status == "rejected"
