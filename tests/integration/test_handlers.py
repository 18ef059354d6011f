"""Each function's handler called with the event AWS sends it, from the fixtures in tests/events/
(one per trigger: S3 via SQS, the EventBridge schedule, the FIFO close message, and every API
route as an HTTP API payload 2.0 event with JWT claims), on the local stack."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import unquote, unquote_plus, urlsplit

import pytest

from cxbill.adapters.models import LedgerItem
from cxbill.jobs import wiring
from cxbill_local.runtime import LambdaContext, LocalCloud, local_cloud

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[1] / "events"
JAN_15, FEB_16 = date(2026, 1, 15), date(2026, 2, 16)
LICENSES = (
    b"user_id,email,product,assigned_at,unassigned_at\n"
    b"u1,ana@acme.example,CX2,2026-01-15T00:00:00Z,\n"
    b"u2,ben@acme.example,CX1,2026-01-15T00:00:00Z,\n"
)
LOGINS = (
    b"session_id,user_id,email,client,login_at,logout_at\n"
    b"s1,u1,ana@acme.example,desktop,2026-02-01T08:00:00Z,2026-02-01T16:00:00Z\n"
    b"s2,u2,ben@acme.example,web,2026-02-02T09:00:00Z,2026-02-02T10:00:00Z\n"
    b"s3,u1,ana@acme.example,mobile,2026-02-03T08:00:00Z,2026-02-03T09:00:00Z\n"
)


def event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def committed(make_contract) -> dict:
    """acme, activated 01-15, committed to 2 CX2 users: every period's close has lines."""
    return make_contract(
        commitments={"CX2": 2},
        one_time=[{"description": "Enablement", "amount": "500.00", "date": "2026-01-15"}],
    )


def test_every_fixture_is_json_in_an_aws_shape() -> None:
    names = sorted(p.name for p in EVENTS.glob("*.json"))
    assert names == [
        "api_bill_to_date.json",
        "api_get_invoice.json",
        "api_get_invoice_pdf.json",
        "api_get_report.json",
        "api_list_invoices.json",
        "api_subscription.json",
        "close_sqs_fifo.json",
        "daily_schedule.json",
        "ingest_sqs_s3_put.json",
    ]
    for name in names:
        body = event(name)
        if name.startswith("api_"):
            assert body["version"] == "2.0"
            assert body["routeKey"] == body["requestContext"]["routeKey"]
            assert body["requestContext"]["authorizer"]["jwt"]["claims"]["org_id"] == "acme"
        elif name == "daily_schedule.json":
            assert (body["source"], body["detail-type"]) == ("aws.events", "Scheduled Event")
        else:
            (record,) = body["Records"]
            assert record["eventSource"] == "aws:sqs"
            assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest() or (
                name == "ingest_sqs_s3_put.json"  # its body is patched with the local names
            )


# ------------------------------------------------------------------ S3 -> SQS -> ingest


def test_ingest_handler_stores_the_upload_an_s3_event_names(
    cloud, make_contract, lambda_context
) -> None:
    cloud.upload_contract(make_contract(), JAN_15)
    sqs_event = event("ingest_sqs_s3_put.json")
    s3_event = json.loads(sqs_event["Records"][0]["body"])
    (record,) = s3_event["Records"]
    key = unquote_plus(record["s3"]["object"]["key"])  # S3 URL-encodes keys in events
    put = cloud.s3.put_object(Bucket=cloud.stack.upload_bucket, Key=key, Body=LOGINS)
    record["s3"]["bucket"]["name"] = cloud.stack.upload_bucket
    record["s3"]["object"]["versionId"] = put["VersionId"]
    sqs_event["Records"][0]["body"] = json.dumps(s3_event)

    handler = cloud.functions["ingest"].handler
    assert handler(sqs_event, lambda_context("ingest")) == {"batchItemFailures": []}
    assert handler(sqs_event, lambda_context("ingest")) == {"batchItemFailures": []}  # redelivery

    (ingestion,) = cloud.ingestions(key)
    assert (ingestion.status, ingestion.rows, ingestion.version) == (
        "accepted",
        3,
        put["VersionId"],
    )
    assert ingestion.received_at == "2026-02-01T09:30:00Z"  # the event's time, not the clock's
    (batch,) = cloud.batches("acme", "logins")
    assert batch.rows == 3
    assert cloud.documents("usage/kind=logins/org_id=acme/") == [batch.object_key]


# ------------------------------------------------------------------ schedule -> daily -> close


def test_daily_handler_queues_the_close_messages_the_close_fixture_copies(
    cloud, make_contract, lambda_context
) -> None:
    cloud.upload_contract(committed(make_contract), JAN_15)

    result = cloud.functions["daily"].handler(event("daily_schedule.json"), lambda_context("daily"))

    got = cloud.sqs.receive_message(
        QueueUrl=cloud.stack.close_queue_url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        WaitTimeSeconds=0,
    )["Messages"]
    assert (result["date"], result["close_messages"]) == ("2026-02-16", len(got))
    assert result.get("failed", 0) == 0
    sent = {m["Attributes"]["MessageDeduplicationId"]: m for m in got}
    fixture = event("close_sqs_fifo.json")["Records"][0]
    period_0 = sent[fixture["attributes"]["MessageDeduplicationId"]]
    assert json.loads(period_0["Body"]) == json.loads(fixture["body"])
    assert period_0["Attributes"]["MessageGroupId"] == fixture["attributes"]["MessageGroupId"]
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {"acme"}


def test_close_handler_issues_the_invoice_a_fifo_message_names_once(
    cloud, make_contract, lambda_context
) -> None:
    cloud.upload_contract(committed(make_contract), JAN_15)
    sqs_event = event("close_sqs_fifo.json")
    handler = cloud.functions["close"].handler

    assert handler(sqs_event, lambda_context("close")) == {"batchItemFailures": []}
    assert handler(copy.deepcopy(sqs_event), lambda_context("close")) == {"batchItemFailures": []}

    (invoice,) = [i for i in cloud.invoices("acme") if i["kind"] == "period"]
    assert invoice["issue_date"] == "2026-02-15"
    assert (invoice["period_start"], invoice["period_end"]) == (
        "2026-01-15T00:00:00Z",
        "2026-02-15T00:00:00Z",
    )
    assert invoice["lines"] and invoice["number"].startswith("ACME-")
    (item,) = [i for i in cloud.ledger("acme") if i.number == invoice["number"]]
    assert item.pdf_key == f"invoices/acme/{invoice['number']}.pdf"
    pdf = cloud.get_document(item.pdf_key)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == item.pdf_sha256
    assert cloud.org("acme").closed_periods == 1


def test_a_failing_close_message_is_reported_not_raised(cloud, lambda_context) -> None:
    """An org with no contract: nothing is issued, nothing fails (a due that went away)."""
    sqs_event = event("close_sqs_fifo.json")
    body = json.loads(sqs_event["Records"][0]["body"])
    record = sqs_event["Records"][0]
    record["body"] = json.dumps({**body, "org_id": "nobody", "id": "2026-02-16:nobody:period:0"})
    record["attributes"]["MessageGroupId"] = "nobody"

    result = cloud.functions["close"].handler(sqs_event, lambda_context("close"))

    assert result == {"batchItemFailures": []}
    assert cloud.invoices("nobody") == []


# ------------------------------------------------------------------ the admin API


@pytest.fixture(scope="module")
def books(make_contract) -> Iterator[LocalCloud]:
    """One stack for the read-only routes: acme with usage in February, billed through 04-20."""
    with local_cloud() as cloud:
        wiring.settings()
        cloud.set_day(JAN_15)
        cloud.upload("contracts/acme.json", json.dumps(committed(make_contract)).encode())
        cloud.set_day(date(2026, 2, 5))
        cloud.upload("usage/acme/licenses/all.csv", LICENSES)
        cloud.upload("usage/acme/logins/feb.csv", LOGINS)
        cloud.run_daily(date(2026, 4, 20))
        yield cloud


def call(books: LocalCloud, name: str, **changes) -> tuple[int, dict]:
    api_event = event(name)
    api_event.update(changes)
    response = books.functions["api"].handler(api_event, LambdaContext("api"))
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


def stored(number: str) -> dict:
    return json.loads(LedgerItem.get("acme", f"invoice#{number}").record)


def presigned_key(books: LocalCloud, body: dict) -> str:
    path = unquote(urlsplit(body["url"]).path)
    prefix = f"/{books.stack.documents_bucket}/"
    assert path.startswith(prefix)
    return path[len(prefix) :]


def test_api_list_invoices(books) -> None:
    status, body = call(books, "api_list_invoices.json")
    assert status == 200
    listed = body["invoices"]
    assert [i["number"] for i in listed] == sorted((i["number"] for i in listed), reverse=True)
    assert len(listed) >= 4  # one_time and three periods by 04-20
    assert all("2026-01-01" <= i["issue_date"] <= "2026-04-30" for i in listed)
    assert listed[-1] == {
        k: stored(listed[-1]["number"])[k]
        for k in ("number", "kind", "issue_date", "period_start", "period_end", "currency", "total")
    }


def test_api_get_invoice(books) -> None:
    status, body = call(books, "api_get_invoice.json")
    assert status == 200
    assert body == stored("ACME-000002")


def test_api_get_invoice_pdf(books) -> None:
    status, body = call(books, "api_get_invoice_pdf.json")
    assert status == 200
    assert set(body) == {"url", "expires_at"}
    assert presigned_key(books, body) == "invoices/acme/ACME-000002.pdf"
    assert body["expires_at"].endswith("Z")


def test_api_bill_to_date(books) -> None:
    status, body = call(books, "api_bill_to_date.json")
    assert status == 200
    assert (body["estimate"], body["as_of"], body["org_id"]) == (True, "2026-04-20", "acme")
    assert body["period_start"] == "2026-04-15T00:00:00Z"
    assert body["currency"] == "USD"


def test_api_subscription(books) -> None:
    status, body = call(books, "api_subscription.json")
    assert status == 200
    assert (body["org_id"], body["license_model"]) == ("acme", "named")
    assert body["period_start"] == "2026-04-15"
    assert body["products"]


def test_api_get_report(books) -> None:
    status, body = call(books, "api_get_report.json")
    assert status == 200
    key = presigned_key(books, body)
    assert key.startswith("reports/acme/billable_usage/2026-02-01_2026-02-28_")
    csv = books.get_document(key).decode()
    assert csv.splitlines()[0] == "charge_name,entity,timestamp"
    assert "ana@acme.example" in csv


def test_api_without_claims_is_401_and_another_org_404(books) -> None:
    unsigned = event("api_list_invoices.json")
    del unsigned["requestContext"]["authorizer"]
    status, body = call(books, "api_list_invoices.json", requestContext=unsigned["requestContext"])
    assert (status, body["error"]) == (401, "unauthorized")

    other = event("api_get_invoice.json")
    other["requestContext"]["authorizer"]["jwt"]["claims"]["org_id"] = "globex"
    status, body = call(books, "api_get_invoice.json", requestContext=other["requestContext"])
    assert (status, body["error"]) == (404, "not_found")
