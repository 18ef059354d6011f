"""R-ops-1 and R-pdf-3 on the local stack: events on the template's bus (tapped to a queue),
validated against docs/events; the issuer kept in the documents bucket and copied into the
invoice at issue; `cxbill replay` writes events.jsonl and the record's `issuer`."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from cxbill.domain.instants import date_ms
from cxbill.domain.issuer import Issuer
from cxbill.domain.ports import Upload
from cxbill.jobs import wiring
from cxbill_local.replay import replay, write_events

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[2] / "docs" / "events"
ISSUER = {
    "legal_name": "Cloud CX Billing Inc.",
    "address": ["500 Harbor Blvd", "Boston, MA 02110"],
    "tax_id": "EIN 12-3456789",
    "email": "billing@cxbill.example",
    "remittance": ["ACH: First Demo Bank, account 000123456789"],
}
LICENSES = (
    "user_id,email,product,assigned_at,unassigned_at\nu1,a@acme.example,CX2,2026-01-15T00:00:00Z,\n"
)
LOGINS = (
    "session_id,user_id,email,client,login_at,logout_at\n"
    "s1,u1,a@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z\n"
)
CLOSE_P0 = date(2026, 2, 16)


def published(cloud, tmp_path: Path) -> list[dict]:
    return write_events(cloud.cloud, tmp_path / "events.jsonl")


def check_schemas(events: list[dict]) -> None:
    for event in events:
        assert event["source"] == "cxbill"
        schema = json.loads((SCHEMAS / f"{event['detail-type']}.schema.json").read_text())
        jsonschema.validate(event["detail"], schema)


def test_r_ops_1_the_template_declares_the_bus_and_the_functions_get_its_name(cloud):
    env = cloud.stack.environment("close")
    assert env["EVENT_BUS_NAME"] == cloud.stack.event_bus_name == "cxbill-local-events"
    assert wiring.settings().event_bus_name == cloud.stack.event_bus_name


def test_r_ops_1_r_pdf_3_upload_issue_and_pdf_are_told_once_with_the_seller(
    make_contract, cloud, tmp_path
):
    cloud.upload_on(date(2026, 1, 2), "config/issuer.json", json.dumps(ISSUER).encode())
    cloud.upload_contract(make_contract(), date(2026, 1, 15))
    cloud.upload_on(date(2026, 2, 1), "usage/acme/licenses/a.csv", LICENSES.encode())
    cloud.upload_on(date(2026, 2, 1), "usage/acme/logins/a.csv", LOGINS.encode())
    cloud.upload_on(date(2026, 2, 1), "usage/acme/logins/bad.csv", b"nope\n")
    cloud.set_day(CLOSE_P0)
    cloud.run_daily(CLOSE_P0)

    events = published(cloud, tmp_path)
    check_schemas(events)
    assert [e["detail-type"] for e in events] == [
        "upload.accepted",
        "upload.accepted",
        "upload.accepted",
        "upload.accepted",
        "upload.rejected",
        "invoice.issued",
        "invoice.pdf_ready",
    ]
    (item,) = cloud.ledger("acme")
    assert json.loads(item.document)["issuer"] == ISSUER
    issued, ready = events[-2]["detail"], events[-1]["detail"]
    assert issued["number"] == item.number == ready["number"]
    assert (ready["key"], ready["sha256"]) == (item.pdf_key, item.pdf_sha256)
    assert events[4]["detail"]["report_key"] == "rejections/usage/acme/logins/bad.csv.json"
    assert events[4]["detail"]["version"] == cloud.upload_version("usage/acme/logins/bad.csv")

    # delivered again (S3 events repeat; the schedule retries): nothing more is told
    cloud.run_daily(CLOSE_P0)
    assert published(cloud, tmp_path) == []


def test_r_ops_1_a_redelivered_upload_event_is_not_told_again(
    cloud, capture, lambda_context, tmp_path
):
    seen = capture(cloud, "ingest")
    cloud.upload_on(date(2026, 1, 2), "config/issuer.json", json.dumps(ISSUER).encode())
    assert len(published(cloud, tmp_path)) == 1
    cloud.functions["ingest"].handler(seen[-1], lambda_context("ingest"))
    assert published(cloud, tmp_path) == []


def test_r_pdf_3_the_documents_bucket_keeps_every_issuer_and_reads_the_latest(cloud):
    documents = wiring.adapters().documents
    day = date_ms(date(2026, 1, 2))
    newer = Issuer.from_json({**ISSUER, "legal_name": "Newer"})
    older = Issuer.from_json({**ISSUER, "legal_name": "Older", "currencies": ["USD"]})
    documents.put_issuer(None, Upload("config/issuer.json", "v2", day + 5), newer)
    documents.put_issuer(None, Upload("config/issuer.json", "v1", day + 1), older)  # late
    assert documents.get_issuer(None) == newer
    assert documents.get_issuer("JPY") is None
    documents.put_issuer("JPY", Upload("config/issuer-JPY.json", "v1", day), older)
    assert documents.get_issuer("JPY") == older  # its scope kept, per currency
    assert cloud.documents("config/issuer/") and cloud.documents("config/issuer-JPY/")


def test_r_pdf_3_replay_writes_the_issuer_in_the_record_and_events_jsonl(make_contract, tmp_path):
    scenario = tmp_path / "scenario" / "uploads"
    (scenario / "2026-01-10" / "config").mkdir(parents=True)
    (scenario / "2026-01-10" / "config" / "issuer.json").write_text(json.dumps(ISSUER))
    (scenario / "2026-01-15" / "contracts").mkdir(parents=True)
    (scenario / "2026-01-15" / "contracts" / "acme.json").write_text(json.dumps(make_contract()))
    (scenario / "2026-02-01" / "usage" / "acme" / "licenses").mkdir(parents=True)
    (scenario / "2026-02-01" / "usage" / "acme" / "licenses" / "a.csv").write_text(LICENSES)
    (scenario / "2026-02-01" / "usage" / "acme" / "logins").mkdir(parents=True)
    (scenario / "2026-02-01" / "usage" / "acme" / "logins" / "a.csv").write_text(LOGINS)
    out = tmp_path / "out"

    replay(scenario.parent, CLOSE_P0, out)

    (record_path,) = (out / "invoices" / "acme").glob("*.json")
    record = json.loads(record_path.read_text())
    assert record["issuer"] == ISSUER
    lines = (out / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    check_schemas(events)
    assert [e["detail-type"] for e in events].count("invoice.issued") == 1
