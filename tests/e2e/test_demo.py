"""The bundled demo scenario replays through every model and schedule (issue: make demo).

Amounts are checked elsewhere against hand-worked examples; here, what each org's contract
implies about the kinds of documents it gets."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pytest

from cxbill_local.cli import DEMO_SCENARIO, DEMO_UNTIL
from cxbill_local.replay import replay

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    summary = replay(DEMO_SCENARIO, DEMO_UNTIL, out)
    kinds = defaultdict(list)
    records = {}
    for path in sorted(out.glob("invoices/*/*.json")):
        record = json.loads(path.read_text())
        kinds[record["org_id"]].append(record["kind"])
        records[record["number"]] = record
        assert path.with_suffix(".pdf").read_bytes().startswith(b"%PDF")
    return out, summary, kinds, records


def test_demo_runs_without_dead_letters_and_rejects_the_bad_export(demo):
    out, summary, _, _ = demo
    assert summary["dead_letters"] == 0
    assert summary["uploads"]["rejected"] == 1
    report = json.loads((out / "rejections/usage/acme-us/logins/late-fix.csv.json").read_text())
    assert report["errors"][0]["column"] == "client"


def test_demo_kinds_follow_each_contract(demo):
    _, _, kinds, records = demo
    # R-once-1: enablement on activation (03-15), hardware when shipped (04-03), then closes
    assert kinds["acme-us"] == ["one_time", "one_time", "period", "period"]
    hardware = records["ACME-US-000002"]
    assert hardware["issue_date"] == "2026-04-03"
    assert [(line["section"], line["product"]) for line in hardware["lines"]] == [
        ("Device charges", "hardware")
    ]
    assert kinds["maple-ca"][0] == "opening"  # R-sub-4 without ramp
    assert set(kinds["lisboa-pt"]) == {"statement"}  # R-partner-1/2
    assert "kiwi-trial" not in kinds  # R-trial-1
    assert set(kinds["bondi-au"]) == {"period"}  # hourly: no opening (R-hourly-2)
    assert set(kinds["sakura-kk"]) == {"period"}  # ramp first: no opening (R-sub-3)


def test_demo_jpy_amounts_have_no_minor_units_and_totals_add_up(demo):
    _, _, _, records = demo
    for record in records.values():
        if record["kind"] == "statement":
            continue
        lines = sum(Decimal(line["amount"]) for line in record["lines"])
        taxes = sum(Decimal(t["amount"]) for t in record["taxes"])
        assert Decimal(record["subtotal"]) == lines
        assert Decimal(record["total"]) == lines + taxes
        if record["currency"] == "JPY":
            assert all("." not in line["amount"] for line in record["lines"])


def test_demo_annual_monthly_ramp_close_holds_the_first_prepay(demo):
    _, _, _, records = demo
    first = records["SAKURA-KK-000001"]
    prepay = [line for line in first["lines"] if line["product"] == "CX1_PREPAY"]
    assert [(p["quantity"], p["service_start"]) for p in prepay] == [("3", "2026-04-30T00:00:00Z")]
