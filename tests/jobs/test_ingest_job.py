"""The ingest job on fakes: contracts, usage, rejections and the ingestion record."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from job_books import ACME, LICENSES, LOGINS

FEB_1 = date(2026, 2, 1)


def test_r_contract_7_a_valid_contract_is_put_in_force_and_scheduled(books):
    outcome = books.contract()

    assert outcome.status == "accepted"
    org = books.orgs.get("acme")
    assert org.contract.currency == "USD"
    assert org.terms["commitments"] == {"CX2": 2}
    assert books.orgs.rows["acme"].next_due == date(2026, 2, 16)  # period 0 closes 02-16


def test_r_contract_7_an_invalid_contract_leaves_the_previous_terms_and_a_report(books):
    books.contract()
    outcome = books.upload("contracts/acme.json", json.dumps({"org_id": "acme"}), FEB_1)

    assert outcome.status == "rejected"
    assert books.orgs.get("acme").terms["commitments"] == {"CX2": 2}
    report = books.documents.objects["rejections/contracts/acme.json.json"]
    assert report["key"] == "contracts/acme.json"
    assert report["errors"] and all("message" in e for e in report["errors"])


def test_r_ingest_1_usage_is_stored_whole_or_not_at_all(books):
    books.contract()
    good = "\n".join(
        [LOGINS, "s1,u1,ana@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z"]
    )
    bad = good + "\ns2,u2,ben@acme.example,fax,2026-01-21T08:00:00Z,2026-01-21T09:00:00Z"

    assert books.upload("usage/acme/logins/bad.csv", bad, FEB_1).status == "rejected"
    assert books.usage.load("acme", "logins", 0, 2**62) == []
    (error,) = books.documents.objects["rejections/usage/acme/logins/bad.csv.json"]["errors"]
    assert (error["line"], error["column"], error["value"]) == (3, "client", "fax")

    assert books.upload("usage/acme/logins/good.csv", good, FEB_1).rows == 1
    (session,) = books.usage.load("acme", "logins", 0, 2**62)
    assert session.user_id == "u1"


def test_r_ingest_7_usage_of_an_unknown_org_is_held_then_rejected_by_the_next_daily_run(books):
    outcome = books.upload("usage/nobody/logins/a.csv", LOGINS + "\n", FEB_1)
    assert outcome.status == "held"
    assert books.upload("usage/nobody/logins/a.csv", LOGINS + "\n", FEB_1, "v1").status in (
        "duplicate",
        "held",
    )

    run = books.daily(FEB_1)

    assert run.released == 1 and not books.held.held
    (entry,) = books.ingestions.entries.values()
    assert entry["status"] == "rejected"
    report = books.documents.objects["rejections/usage/nobody/logins/a.csv.json"]
    assert "unknown org" in report["errors"][0]["message"]


def test_r_ingest_7_usage_delivered_before_its_contract_is_billed_as_usual(books):
    logins = LOGINS + "\ns1,u1,ana@acme.example,web,2026-01-20T08:00:00Z,2026-01-20T09:00:00Z\n"
    assert books.upload("usage/acme/logins/a.csv", logins, date(2026, 1, 21)).status == "held"
    books.contract(date(2026, 1, 10))  # uploaded earlier, delivered later

    (number,) = books.run_daily(date(2026, 2, 16))

    (entry,) = [e for (k, _), e in books.ingestions.entries.items() if k.startswith("usage/")]
    assert (entry["status"], entry["rows"]) == ("accepted", 1)
    lines = books.ledger.invoice("acme", number).invoice.lines
    assert [(line.product, line.quantity) for line in lines if line.product == "CX1"] == [
        ("CX1", Decimal(1))
    ]


def test_r_ingest_3_the_same_event_twice_changes_nothing(books):
    books.contract()
    body = LICENSES + "\nu1,ana@acme.example,CX2,2026-01-15T00:00:00Z,\n"
    books.upload("usage/acme/licenses/a.csv", body, FEB_1, version="same")
    again = books.upload("usage/acme/licenses/a.csv", body, FEB_1, version="same")

    assert again.status == "duplicate"
    assert books.orgs.rows["acme"].usage_marks == 1


def test_r_ingest_5_every_processed_upload_leaves_a_record(books):
    books.contract()
    books.upload("usage/acme/logins/a.csv", LOGINS + "\n", FEB_1, version="x")
    entry = books.ingestions.entries[("usage/acme/logins/a.csv", "x")]
    assert (entry["status"], entry["org_id"], entry["kind"], entry["rows"]) == (
        "accepted",
        "acme",
        "logins",
        0,
    )


def test_r_ingest_4_usage_of_a_closed_period_marks_it_late(books):
    books.contract()
    books.run_daily(date(2026, 2, 16))  # closes period 0 (nothing billed but the prepay)
    late = "\n".join(
        [LOGINS, "s9,u9,zed@acme.example,web,2026-01-20T08:00:00Z,2026-01-20T09:00:00Z"]
    )
    outcome = books.upload("usage/acme/logins/late.csv", late, date(2026, 2, 20))

    assert outcome.late_rows == 1
    assert books.orgs.get("acme").late_periods == {0}


def _close_january_with_a_device(books):
    books.contract(devices={"physical_edge": {"monthly": "250.00"}})
    books.upload(
        "usage/acme/devices/d.csv",
        "device_id,type,active_from,active_to\nedge-1,physical_edge,2026-01-20T00:00:00Z,\n",
        date(2026, 1, 21),
    )
    (number,) = books.run_daily(date(2026, 2, 16))
    return number


def test_r_ingest_8_a_correction_moving_a_device_out_of_a_closed_period_is_credited(books):
    first = _close_january_with_a_device(books)
    assert [
        (line.product, line.amount) for line in books.ledger.invoice("acme", first).invoice.lines
    ][-1] == ("physical_edge", Decimal("250.00"))
    # the device never ran in period 0: its corrected row starts in period 1
    outcome = books.upload(
        "usage/acme/devices/d.csv",
        "device_id,type,active_from,active_to\nedge-1,physical_edge,2026-01-20T00:00:00Z,"
        "2026-01-20T00:00:00Z\n",
        date(2026, 2, 20),
    )
    assert outcome.late_rows == 1
    assert books.orgs.get("acme").late_periods == {0}
    (second,) = books.run_daily(date(2026, 3, 16))
    lines = books.ledger.invoice("acme", second).invoice.lines
    adjustment = next(line for line in lines if line.product == "adjustment:physical_edge")
    assert (adjustment.quantity, adjustment.amount) == (Decimal(-1), Decimal("-250.00"))


def test_r_ingest_8_a_session_moved_to_another_month_is_credited_where_it_was(books):
    books.contract()
    books.upload(
        "usage/acme/logins/s.csv",
        LOGINS + "\ns1,u1,ana@acme.example,web,2026-01-20T08:00:00Z,2026-01-20T09:00:00Z\n",
        date(2026, 1, 21),
    )
    books.run_daily(date(2026, 2, 16))
    moved = books.upload(
        "usage/acme/logins/s.csv",
        LOGINS + "\ns1,u1,ana@acme.example,web,2026-02-20T08:00:00Z,2026-02-20T09:00:00Z\n",
        date(2026, 2, 21),
    )
    assert (moved.late_rows, books.orgs.get("acme").late_periods) == (1, {0})
    (number,) = books.run_daily(date(2026, 3, 16))
    lines = {line.product: line for line in books.ledger.invoice("acme", number).invoice.lines}
    assert (lines["adjustment:CX1"].quantity, lines["adjustment:CX1"].amount) == (
        Decimal(-1),
        Decimal("-90.00"),
    )
    assert lines["CX1"].quantity == 1  # billed in period 1, where it now lies


def test_r_ingest_7_an_older_contract_processed_last_never_replaces_a_newer_one(books):
    from cxbill.domain.instants import date_ms
    from cxbill.domain.ports import Upload

    older = json.dumps(ACME | {"commitments": {"CX2": 5}})
    newer = json.dumps(ACME | {"commitments": {"CX2": 9}})
    books.uploads.put("contracts/acme.json", older, "v1")
    books.uploads.put("contracts/acme.json", newer, "v2")
    at = date_ms(date(2026, 1, 10))
    # v2 was uploaded a minute later but is delivered first
    assert books.ingest(Upload("contracts/acme.json", "v2", at + 60_000)).status == "accepted"
    assert books.ingest(Upload("contracts/acme.json", "v1", at)).status == "accepted"

    assert books.orgs.get("acme").terms["commitments"] == {"CX2": 9}


def test_r_ingest_6_a_key_over_512_bytes_is_rejected_with_its_report_filed_by_digest(books):
    import hashlib

    key = "usage/acme/logins/" + "x" * 1000 + ".csv"
    outcome = books.upload(key, LOGINS + "\n", FEB_1)

    assert outcome.status == "rejected"
    name = hashlib.sha256(key.encode()).hexdigest()
    report = books.documents.objects[f"rejections/_long-keys/{name}.json"]
    assert report["key"] == key
    assert "512 bytes" in report["errors"][0]["message"]


DECK = "prefix,country,service,rate_per_minute,min_s,increment_s\n1,US,outbound,{rate},0,60\n"
CALLS = "call_id,started_at,direction,origin,destination,duration_s\n"
CALL = "c1,2026-01-20T10:00:00Z,outbound,+15550000001,+15550000002,60\n"


def _deck(books, version: str, rate: str, at_ms: int):
    from cxbill.domain.ports import Upload

    key = "rates/us-east-1/USD/outbound.csv"
    books.uploads.put(key, DECK.format(rate=rate), version)
    return books.ingest(Upload(key, version, at_ms))


def _calls(books, at_ms: int):
    from cxbill.domain.ports import Upload

    key = "usage/acme/calls/jan.csv"
    books.uploads.put(key, CALLS + CALL, "c1")
    return books.ingest(Upload(key, "c1", at_ms))


def test_r_ingest_7_calls_are_priced_with_the_deck_uploaded_last_before_them(books):
    from cxbill.domain.instants import date_ms

    books.contract()
    day = date_ms(date(2026, 1, 21))
    _deck(books, "d2", "0.0200", day + 30)  # a later deck, processed first
    _deck(books, "d1", "0.0100", day + 10)
    assert _calls(books, day + 20).status == "accepted"  # uploaded between the two decks

    (call,) = books.usage.load("acme", "calls", 0, 2**62)
    assert call.rate_per_minute == Decimal("0.0100")


def test_r_ingest_7_calls_delivered_before_their_deck_wait_for_the_daily_run(books):
    from cxbill.domain.instants import date_ms

    books.contract()
    day = date_ms(date(2026, 1, 21))
    books.uploads.put("rates/us-east-1/USD/outbound.csv", DECK.format(rate="0.0100"), "d1")
    assert _calls(books, day + 20).status == "held"  # the deck's event is not processed yet
    _deck(books, "d1", "0.0100", day + 10)

    books.daily(date(2026, 1, 21))

    (call,) = books.usage.load("acme", "calls", 0, 2**62)
    assert (call.rate_per_minute, call.cost) == (Decimal("0.0100"), Decimal("0.0100"))
