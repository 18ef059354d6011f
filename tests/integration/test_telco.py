"""Resources, devices, numbers and calls from upload to invoice (SPEC 4.2.3–4.2.6, 5.6).

Every amount below is worked out by hand from the rule it names."""

from __future__ import annotations

from datetime import date

import pytest

pytestmark = pytest.mark.integration

OUTBOUND = (
    "prefix,country,service,rate_per_minute,min_s,increment_s\n"
    "1,US,outbound,0.0100,6,6\n"
    "44,GB,extended_outbound,0.0500,60,60\n"
)
INBOUND = "prefix,country,service,rate_per_minute,min_s,increment_s\n1,US,inbound,0.0040,0,1\n"
CALLS = (
    "call_id,started_at,direction,origin,destination,duration_s\n"
    # 61 s → 66 s (increment 6) → 0.0110
    "c1,2026-01-20T10:00:00Z,outbound,+13125550100,+12125550100,61\n"
    # 3 s → 6 s (minimum) → 0.0010, and a short-call surcharge (R-call-3)
    "c2,2026-01-20T11:00:00Z,outbound,+13125550100,+12125550101,3\n"
    # 30 s → 60 s → 0.0500, extended outbound, international
    "c3,2026-01-21T10:00:00Z,outbound,+13125550100,+442071234567,30\n"
    # inbound, rated by the origin: 100 s → 100/60 × 0.004 = 0.00666… → 0.0067
    "c4,2026-01-22T10:00:00Z,inbound,+13125550100,+18005550100,100\n"
)
TERMS = {
    "resources": {
        "ivr_minutes": {"included": "100", "rate": "0.012"},
        "storage_gb": {"included": "10", "rate": "0.50"},
    },
    "devices": {"physical_edge": {"monthly": "250.00"}},
    "numbers": {
        "did": {"setup": "1.00", "monthly": "1.00"},
        "toll_free": {"setup": "2.00", "monthly": "2.00"},
    },
    "telco": {"short_call_surcharge": "0.01"},
}


@pytest.fixture
def telco(cloud, make_contract):
    cloud.upload_contract(make_contract(**TERMS), date(2026, 1, 15))
    return cloud


def upload_decks(books, day):
    books.upload_on(day, "rates/us-east-1/USD/outbound.csv", OUTBOUND.encode())
    books.upload_on(day, "rates/us-east-1/USD/inbound.csv", INBOUND.encode())


def test_charges_of_every_kind_on_the_period_invoice(telco):
    upload_decks(telco, date(2026, 1, 15))
    telco.upload_on(date(2026, 1, 23), "usage/acme/calls/jan.csv", CALLS.encode())
    telco.upload_on(
        date(2026, 1, 23),
        "usage/acme/resources/jan.csv",
        (
            b"date,resource,quantity\n2026-01-20,ivr_minutes,60\n2026-01-21,ivr_minutes,70\n"
            b"2026-01-20,storage_gb,12\n2026-01-21,storage_gb,15\n"
        ),
    )
    telco.upload_on(
        date(2026, 1, 23),
        "usage/acme/devices/all.csv",
        b"device_id,type,active_from,active_to\nd1,physical_edge,2026-01-01T00:00:00Z,\n",
    )
    telco.upload_on(
        date(2026, 1, 23),
        "usage/acme/numbers/all.csv",
        (
            b"number,type,acquired_at,released_at\n"
            b"+15550100001,did,2026-01-20T00:00:00Z,\n"  # acquired in P: monthly and setup
            b"+18005550100,toll_free,2025-12-01T00:00:00Z,\n"
        ),
    )  # before activation: monthly
    telco.run_daily(date(2026, 2, 16))
    (invoice,) = telco.invoices("acme")
    lines = {
        line["product"]: (line["section"], line["quantity"], line["rate"], line["amount"])
        for line in invoice["lines"]
    }
    assert lines == {
        # R-res-1: 60 + 70 − 100 included; storage: the largest day, 15 − 10
        "ivr_minutes": ("Resource charges", "30", "0.012", "0.36"),
        "storage_gb": ("Resource charges", "5", "0.50", "2.50"),
        "physical_edge": ("Device charges", "1", "250.00", "250.00"),  # R-dev-1
        "did_monthly": ("Telco usage charges", "1", "1.00", "1.00"),  # R-num-1
        "did_setup": ("Telco usage charges", "1", "1.00", "1.00"),
        "toll_free_monthly": ("Telco usage charges", "1", "2.00", "2.00"),
        # R-call-2: minutes of adjusted seconds, amount the rounded sum of 4-place costs
        "outbound_us": ("Telco usage charges", "1.20", None, "0.01"),
        "extended_outbound_intl": ("Telco usage charges", "1.00", None, "0.05"),
        "inbound_us": ("Telco usage charges", "1.67", None, "0.01"),
        "short_call_surcharge": ("Telco usage charges", "1", "0.01", "0.01"),  # R-call-3
    }
    assert invoice["subtotal"] == "256.94"
    assert [t["amount"] for t in invoice["taxes"]] == ["16.06", "2.57"]
    assert invoice["total"] == "275.57"


def test_r_deck_1_calls_without_any_deck_are_rejected(telco):
    telco.upload_on(date(2026, 1, 23), "usage/acme/calls/jan.csv", CALLS.encode())
    assert telco.ingestion("usage/acme/calls/jan.csv").status == "held"  # R-ingest-7
    telco.run_daily(date(2026, 1, 23))
    assert telco.ingestion("usage/acme/calls/jan.csv").status == "rejected"
    assert "no rate deck" in telco.rejection("usage/acme/calls/jan.csv")["errors"][0]["message"]


def test_r_deck_1_a_call_matching_no_prefix_rejects_the_file(telco):
    upload_decks(telco, date(2026, 1, 15))
    calls = CALLS + "c5,2026-01-22T11:00:00Z,outbound,+13125550100,+81312345678,10\n"
    telco.upload_on(date(2026, 1, 23), "usage/acme/calls/jan.csv", calls.encode())
    report = telco.rejection("usage/acme/calls/jan.csv")
    assert [(e["line"], e["column"]) for e in report["errors"]] == [(6, "destination")]
    assert telco.batches("acme", "calls") == []


def test_r_deck_1_a_new_deck_never_reprices_stored_calls(telco):
    upload_decks(telco, date(2026, 1, 15))
    telco.upload_on(date(2026, 1, 23), "usage/acme/calls/jan.csv", CALLS.encode())
    dearer = OUTBOUND.replace("0.0100", "1.0000")
    telco.upload_on(date(2026, 1, 24), "rates/us-east-1/USD/outbound.csv", dearer.encode())
    telco.run_daily(date(2026, 2, 16))
    (invoice,) = telco.invoices("acme")
    amounts = {line["product"]: line["amount"] for line in invoice["lines"]}
    assert amounts["outbound_us"] == "0.01"


def test_r_call_4_voice_report_costs_add_up_to_each_calling_line(telco):
    import csv
    import io
    from collections import defaultdict
    from decimal import ROUND_HALF_UP, Decimal
    from urllib.parse import unquote, urlsplit

    upload_decks(telco, date(2026, 1, 15))
    telco.upload_on(date(2026, 1, 23), "usage/acme/calls/jan.csv", CALLS.encode())
    telco.run_daily(date(2026, 2, 16))
    (invoice,) = telco.invoices("acme")
    claims = {"org_id": "acme", "permissions": ["billing:all"]}
    response = telco.api(
        "/orgs/acme/reports/voice_usage", claims, {"from": "2026-01-15", "to": "2026-02-14"}
    )
    key = unquote(urlsplit(response["body"]["url"]).path).split("/", 2)[2]
    rows = list(csv.DictReader(io.StringIO(telco.get_document(key).decode())))
    assert len(rows) == 4
    costs: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        region = "us" if row["country"] == "US" else "intl"
        costs[f"{row['service']}_{region}"] += Decimal(row["cost"])
    lines = {line["product"]: line["amount"] for line in invoice["lines"] if line["rate"] is None}
    assert lines == {
        product: str(total.quantize(Decimal("0.01"), ROUND_HALF_UP))
        for product, total in costs.items()
    }
