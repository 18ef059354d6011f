"""Uploads through S3 -> SQS -> functions/ingest on the local stack (SPEC 2, 4)."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from urllib.parse import unquote_plus

import pytest

pytestmark = pytest.mark.integration

FEB_1 = date(2026, 2, 1)
CLOSES_PERIOD_0 = date(2026, 2, 16)  # period 0 [01-15, 02-15) closes at the run of 02-16

LICENSES_KEY = "usage/acme/licenses/initial.csv"
LOGINS_KEY = "usage/acme/logins/january.csv"
LICENSES = (
    "user_id,email,product,assigned_at,unassigned_at",
    "u1,ana@acme.example,CX1,2026-01-01T00:00:00Z,",
    "u2,ben@acme.example,CX2,2026-01-01T00:00:00Z,",
    "u3,cy@acme.example,CX1,2026-01-01T00:00:00Z,",
)
LOGINS_HEADER = "session_id,user_id,email,client,login_at,logout_at"
# Billable: u1 and u3 (CX1), u2 (CX2).
LOGINS = (
    LOGINS_HEADER,
    "s1,u1,ana@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z",
    "s2,u2,ben@acme.example,web,2026-01-21T08:00:00Z,2026-01-21T16:00:00Z",
    "s3,u3,cy@acme.example,mobile,2026-01-22T08:00:00Z,2026-01-22T16:00:00Z",
)
# The same file corrected: s2 was a Teams session, s3 was u1's. Billable: u1 only (CX1).
LOGINS_CORRECTED = (
    LOGINS_HEADER,
    "s1,u1,ana@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z",
    "s2,u2,ben@acme.example,teams,2026-01-21T08:00:00Z,2026-01-21T16:00:00Z",
    "s3,u1,ana@acme.example,mobile,2026-01-22T08:00:00Z,2026-01-22T16:00:00Z",
)
AS_UPLOADED = {"CX1": "2", "CX2": "1"}
AS_CORRECTED = {"CX1": "1"}


def csv_bytes(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def quantities(invoice: dict) -> dict[str, str]:
    return {line["product"]: line["quantity"] for line in invoice["lines"]}


@pytest.fixture
def licensed(acme):
    """acme with its license assignments uploaded."""
    acme.upload_on(FEB_1, LICENSES_KEY, csv_bytes(*LICENSES))
    return acme


def close_period_0(cloud) -> dict:
    cloud.run_daily(CLOSES_PERIOD_0)
    (invoice,) = [i for i in cloud.invoices("acme") if i["kind"] == "period"]
    return invoice


# --- R-ingest-1: a bad file is rejected whole ------------------------------------------------


def test_r_ingest_1_file_with_two_bad_rows_is_rejected_whole_with_a_report(licensed):
    body = csv_bytes(
        LOGINS_HEADER,
        "s1,u1,ana@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T16:00:00Z",
        "s2,u2,ben@acme.example,fax,2026-01-21T08:00:00Z,2026-01-21T16:00:00Z",
        "s3,u3,cy@acme.example,mobile,2026-01-22T08:00:00,2026-01-22T16:00:00Z",
        "s4,u1,ana@acme.example,web,2026-01-23T08:00:00Z,2026-01-23T09:00:00Z",
    )
    licensed.upload_on(FEB_1, LOGINS_KEY, body)

    assert licensed.dead_letters == []
    assert licensed.batches("acme", "logins") == []  # nothing from the file is stored
    assert licensed.documents("usage/kind=logins/org_id=acme/") == []
    record = licensed.ingestion(LOGINS_KEY)
    assert (record.status, record.rows, record.errors) == ("rejected", 0, 2)
    assert record.report_key == f"rejections/{LOGINS_KEY}.json"

    report = licensed.rejection(LOGINS_KEY)
    assert report["key"] == LOGINS_KEY
    assert report["version"] == record.version == licensed.upload_version(LOGINS_KEY)
    assert report["received_at"] == "2026-02-01T00:00:00.001Z"  # after the day's licenses
    where = [(e["line"], e["column"], e["value"]) for e in report["errors"]]
    assert where == [(3, "client", "fax"), (4, "login_at", "2026-01-22T08:00:00")]
    assert all(e["message"] for e in report["errors"])


# --- R-ingest-2: every kind of unreadable upload is a clear rejection --------------------------

VALID_LOGINS = csv_bytes(*LOGINS)
LATIN_1_LOGINS = "\n".join(
    [
        LOGINS_HEADER,
        "s1,u1,jos\u00e9@acme.example,desktop,2026-01-20T08:00:00Z,2026-01-20T09:00:00Z",
    ]
).encode("latin-1")  # a spreadsheet's "ANSI" export: \xe9 is not UTF-8


@pytest.mark.parametrize(
    ("key", "body", "says"),
    [
        pytest.param(
            "usage/acme/logins/header.csv",
            csv_bytes("session,user,client,login,logout", "s1,u1,desktop,a,b"),
            "header",
            id="wrong-header",
        ),
        pytest.param(
            "usage/acme/logins/latin1.csv",
            LATIN_1_LOGINS,
            "utf-8",
            id="non-utf8",
        ),
        pytest.param(
            "usage/acme/logins/broken.csv.gz",
            gzip.compress(VALID_LOGINS)[:40],
            "gzip",
            id="broken-gzip",
        ),
        pytest.param("usage/acme/logins/empty.csv", b"", "empty", id="empty-file"),
        pytest.param("usage/nobody/logins/a.csv", VALID_LOGINS, "nobody", id="unknown-org"),
        pytest.param("misc/x.csv", VALID_LOGINS, "misc/x.csv", id="key-outside-the-table"),
    ],
)
def test_r_ingest_2_unreadable_upload_is_rejected_with_a_report(licensed, capture, key, body, says):
    deliveries = capture(licensed, "ingest")
    licensed.upload_on(FEB_1, key, body)
    licensed.run_daily(FEB_1)  # an unknown org's usage is held until then (R-ingest-7)

    assert len(deliveries) == 1  # handled on the first delivery: never a crash, never a retry
    assert licensed.dead_letters == []
    record = licensed.ingestion(key)
    assert record.status == "rejected"
    assert record.rows == 0
    report = licensed.rejection(key)
    assert report["key"] == key
    assert report["version"] == licensed.upload_version(key)
    assert report["received_at"] == "2026-02-01T00:00:00.001Z"  # after the day's licenses
    assert report["errors"]
    assert says in report["errors"][0]["message"].lower()
    assert licensed.batches("acme", "logins") == []
    assert licensed.batches("nobody", "logins") == []


# --- R-ingest-3: at-least-once delivery and uploads as upserts ----------------------------------


def test_r_ingest_3_same_event_delivered_twice_changes_nothing(licensed, capture, lambda_context):
    events = capture(licensed, "ingest")
    licensed.upload_on(FEB_1, LOGINS_KEY, csv_bytes(*LOGINS))
    (event,) = events
    first = licensed.ingestion(LOGINS_KEY)

    again = licensed.functions["ingest"].handler(event, lambda_context("ingest"))

    assert again["batchItemFailures"] == []
    (record,) = licensed.ingestions(LOGINS_KEY)
    assert record.processed_at == first.processed_at  # not processed a second time
    assert len(licensed.batches("acme", "logins")) == 1
    assert quantities(close_period_0(licensed)) == AS_UPLOADED


def test_r_ingest_3_hand_written_s3_event_is_ingested_once(licensed, load_event, lambda_context):
    """The notification as AWS shapes it (URL-encoded key, versionId), delivered twice."""
    event = load_event("ingest_sqs_s3_put.json")
    s3_event = json.loads(event["Records"][0]["body"])
    s3_object = s3_event["Records"][0]["s3"]["object"]
    key = unquote_plus(s3_object["key"])
    assert key == "usage/acme/logins/feb export(2).csv"
    put = licensed.s3.put_object(
        Bucket=licensed.stack.upload_bucket, Key=key, Body=csv_bytes(*LOGINS)
    )
    s3_event["Records"][0]["s3"]["bucket"]["name"] = licensed.stack.upload_bucket
    s3_object["versionId"] = put["VersionId"]
    event["Records"][0]["body"] = json.dumps(s3_event)

    handler = licensed.functions["ingest"].handler
    assert handler(event, lambda_context("ingest")) == {"batchItemFailures": []}
    assert handler(event, lambda_context("ingest")) == {"batchItemFailures": []}

    (record,) = licensed.ingestions(key)
    assert (record.status, record.rows, record.version) == ("accepted", 3, put["VersionId"])
    assert record.received_at == "2026-02-01T09:30:00Z"  # the event's time
    assert len(licensed.batches("acme", "logins")) == 1


def test_r_ingest_3_reuploading_the_same_bytes_changes_no_invoice(licensed):
    licensed.upload_on(FEB_1, LOGINS_KEY, csv_bytes(*LOGINS))
    licensed.upload_on(date(2026, 2, 3), LOGINS_KEY, csv_bytes(*LOGINS))

    assert [r.status for r in licensed.ingestions(LOGINS_KEY)] == ["accepted", "accepted"]
    assert quantities(close_period_0(licensed)) == AS_UPLOADED  # no session counted twice


def test_r_ingest_3_corrected_reupload_replaces_the_old_rows(licensed):
    licensed.upload_on(FEB_1, LOGINS_KEY, csv_bytes(*LOGINS))
    licensed.upload_on(date(2026, 2, 3), LOGINS_KEY, csv_bytes(*LOGINS_CORRECTED))

    invoice = close_period_0(licensed)

    assert quantities(invoice) == AS_CORRECTED
    assert invoice["subtotal"] == "90.00"


def test_r_ingest_3_reuploading_old_bytes_after_a_correction_restores_them(licensed):
    licensed.upload_on(FEB_1, LOGINS_KEY, csv_bytes(*LOGINS))
    licensed.upload_on(date(2026, 2, 3), LOGINS_KEY, csv_bytes(*LOGINS_CORRECTED))
    licensed.upload_on(date(2026, 2, 5), LOGINS_KEY, csv_bytes(*LOGINS))

    invoice = close_period_0(licensed)

    assert quantities(invoice) == AS_UPLOADED
    assert invoice["subtotal"] == "295.00"  # 2 x 90.00 + 1 x 115.00


# --- R-ingest-5: the ingestion record ----------------------------------------------------------


def test_r_ingest_5_accepted_upload_leaves_an_ingestion_record(licensed):
    licensed.set_day(FEB_1)
    licensed.upload("usage/acme/logins/other.csv", csv_bytes(LOGINS_HEADER))  # 0 rows: fine
    licensed.upload(LOGINS_KEY, csv_bytes(*LOGINS))

    record = licensed.ingestion(LOGINS_KEY)
    assert record.status == "accepted"
    assert (record.rows, record.late_rows, record.errors) == (3, 0, 0)
    assert (record.org_id, record.kind) == ("acme", "logins")
    assert record.version == licensed.upload_version(LOGINS_KEY)
    assert record.received_at == "2026-02-01T00:00:00.002Z"  # the third upload of the day
    assert datetime.fromisoformat(record.processed_at)
    assert record.report_key is None
    assert not licensed.has_rejection(LOGINS_KEY)
    empty = licensed.ingestion("usage/acme/logins/other.csv")
    assert (empty.status, empty.rows) == ("accepted", 0)


def test_r_ingest_5_gzip_upload_is_accepted(licensed):
    key = LOGINS_KEY + ".gz"
    licensed.upload_on(FEB_1, key, gzip.compress(csv_bytes(*LOGINS)))

    record = licensed.ingestion(key)
    assert (record.status, record.rows) == ("accepted", 3)
    (batch,) = licensed.batches("acme", "logins")
    assert (batch.upload_key, batch.rows) == (key, 3)
    assert quantities(close_period_0(licensed)) == AS_UPLOADED


# --- R-ingest-4: late rows ---------------------------------------------------------------------


def test_r_ingest_4_rows_for_a_closed_period_are_counted_late(licensed):
    licensed.upload_on(FEB_1, LOGINS_KEY, csv_bytes(*LOGINS))
    issued = close_period_0(licensed)

    late_key = "usage/acme/logins/late.csv"
    licensed.upload_on(
        date(2026, 2, 20),
        late_key,
        csv_bytes(
            LOGINS_HEADER,
            "s9,u2,ben@acme.example,web,2026-01-25T08:00:00Z,2026-01-25T09:00:00Z",  # period 0
            "s10,u1,ana@acme.example,web,2026-02-18T08:00:00Z,2026-02-18T09:00:00Z",  # period 1
        ),
    )

    record = licensed.ingestion(late_key)
    assert (record.status, record.rows, record.late_rows) == ("accepted", 2, 1)
    assert licensed.invoices("acme") == [issued]  # an issued invoice never changes


# --- R-contract-7/8: contract uploads ----------------------------------------------------------


def test_r_contract_7_bad_contract_is_rejected_and_previous_terms_stay(acme, make_contract):
    before = acme.org("acme")
    bad = make_contract(currency="XYZ", payment_terms_days=400)
    bad["prices"]["CX1"]["overage"] = "1.00"  # would change the terms if it got through

    acme.upload_contract(bad, FEB_1)

    records = acme.ingestions("contracts/acme.json")
    assert [r.status for r in records if r.version != before.contract_version] == ["rejected"]
    report = acme.rejection("contracts/acme.json")
    assert {e["column"] for e in report["errors"]} >= {"currency", "payment_terms_days"}
    after = acme.org("acme")
    assert json.loads(after.contract) == json.loads(before.contract)
    assert after.contract_version == before.contract_version


def test_r_contract_8_currency_may_change_before_any_close(acme, make_contract):
    acme.upload_contract(make_contract(currency="EUR"), FEB_1)

    assert json.loads(acme.org("acme").contract)["currency"] == "EUR"


@pytest.mark.parametrize(
    ("field", "value"), [("currency", "EUR"), ("activation_date", "2026-01-20")]
)
def test_r_contract_8_currency_or_activation_change_after_a_close_is_rejected(
    licensed, make_contract, field, value
):
    licensed.run_daily(CLOSES_PERIOD_0)  # no usage: no invoice, but the period is closed
    assert licensed.org("acme").closed_periods == 1

    licensed.upload_contract(make_contract(**{field: value}), date(2026, 2, 20))

    statuses = sorted(r.status for r in licensed.ingestions("contracts/acme.json"))
    assert statuses == ["accepted", "rejected"]
    (error,) = licensed.rejection("contracts/acme.json")["errors"]
    assert (error["column"], error["value"]) == (field, value)
    assert json.loads(licensed.org("acme").contract)[field] == make_contract()[field]


# --- kinds that are stored but not billed yet ----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "header", "row"),
    [
        ("resources", "date,resource,quantity", "2026-01-20,ivr_minutes,120"),
        (
            "devices",
            "device_id,type,active_from,active_to",
            "e1,physical_edge,2026-01-15T00:00:00Z,",
        ),
        (
            "numbers",
            "number,type,acquired_at,released_at",
            "+13125550100,did,2026-01-15T00:00:00Z,",
        ),
    ],
)
def test_inventory_and_resource_usage_kinds_are_validated_and_stored(acme, kind, header, row):
    key = f"usage/acme/{kind}/january.csv"
    acme.upload_on(FEB_1, key, csv_bytes(header, row))

    record = acme.ingestion(key)
    assert (record.status, record.rows) == ("accepted", 1)
    assert not acme.has_rejection(key)
    assert [b.rows for b in acme.batches("acme", kind)] == [1]
