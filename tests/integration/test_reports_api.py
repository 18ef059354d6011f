"""Usage reports through the API (SPEC 7, section 8): the route writes the CSV to the documents
bucket and answers with a presigned URL of it (R-api-2); R-api-1 and R-api-3 on the route;
R-report-1 for a partner org."""

from __future__ import annotations

import hashlib
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

pytestmark = pytest.mark.integration

BILLING = {"org_id": "acme", "permissions": ["billing:subscription:view"]}
FEBRUARY = {"from": "2026-02-01", "to": "2026-02-03"}

LICENSES = (
    b"user_id,email,product,assigned_at,unassigned_at\n"
    b"u1,ana@acme.example,CX2,2026-01-15T00:00:00Z,\n"
    b"u2,=cmd,CX1,2026-01-15T00:00:00Z,\n"
    b"u2,=cmd,DIGITAL,2026-01-15T00:00:00Z,\n"
)
LOGINS = (
    b"session_id,user_id,email,client,login_at,logout_at\n"
    b"s1,u1,ana@acme.example,desktop,2026-02-01T08:00:00Z,2026-02-01T16:00:00Z\n"
    b"s2,u2,=cmd,web,2026-02-01T09:00:00.250Z,2026-02-01T10:00:00.250Z\n"
    b"s3,u2,=cmd,api,2026-02-02T09:00:00Z,2026-02-02T10:00:00Z\n"
    b"s4,u1,ana@acme.example,mobile,2026-02-03T23:00:00Z,2026-02-04T01:00:00Z\n"
)


@pytest.fixture
def usage(acme):
    acme.upload_on(date(2026, 2, 5), "usage/acme/licenses/l1.csv", LICENSES)
    acme.upload_on(date(2026, 2, 5), "usage/acme/logins/s1.csv", LOGINS)
    return acme


def report_key(books, response: dict) -> str:
    """The one object the presigned URL names: the URL path is /<bucket>/<key>."""
    assert response["status"] == 200, response
    path = unquote(urlsplit(response["body"]["url"]).path)
    bucket = f"/{books.stack.documents_bucket}/"
    assert path.startswith(bucket)
    return path[len(bucket) :]


def fetch(books, report: str, query: dict, claims: dict = BILLING, org: str = "acme") -> str:
    response = books.api(f"/orgs/{org}/reports/{report}", claims, query)
    return books.get_document(report_key(books, response)).decode("utf-8")


def lines(*rows: str) -> str:
    return "".join(row + "\n" for row in rows)


# -- the reports ----------------------------------------------------------------------------------


def test_billable_usage_csv_is_stored_and_presigned(usage):
    response = usage.api("/orgs/acme/reports/billable_usage", BILLING, FEBRUARY)

    key = report_key(usage, response)
    body = usage.get_document(key)
    digest = hashlib.sha256(body).hexdigest()
    assert key == f"reports/acme/billable_usage/2026-02-01_2026-02-03_{digest[:16]}.csv"
    assert body.decode() == lines(
        "charge_name,entity,timestamp",
        "Cloud CX 1 User,'=cmd,2026-02-01T09:00:00.250Z",  # formula defused
        "Cloud CX 2 User,ana@acme.example,2026-02-01T08:00:00Z",
        "Digital Add-on,'=cmd,2026-02-01T09:00:00.250Z",
    )
    query = parse_qs(urlsplit(response["body"]["url"]).query)
    assert query["X-Amz-Expires"] == ["300"]  # R-api-2
    assert response["body"]["expires_at"].endswith("Z")
    head = usage.s3.head_object(Bucket=usage.stack.documents_bucket, Key=key)
    assert head["ContentType"] == "text/csv; charset=utf-8"


def test_the_same_report_twice_is_the_same_object(usage):
    first = report_key(usage, usage.api("/orgs/acme/reports/user_hours", BILLING, FEBRUARY))
    again = report_key(usage, usage.api("/orgs/acme/reports/user_hours", BILLING, FEBRUARY))
    assert first == again
    assert usage.documents("reports/acme/user_hours/") == [first]


def test_concurrent_usage_lists_every_day(usage):
    assert fetch(usage, "concurrent_usage", FEBRUARY) == lines(
        "date,peak_concurrent_users,minutes_at_peak,sustained_peak",
        "2026-02-01,2,60.00,2",
        "2026-02-02,0,0.00,0",  # only an api login that day
        "2026-02-03,1,60.00,1",  # the session runs on past the range
    )


def test_user_hours(usage):
    assert fetch(usage, "user_hours", FEBRUARY) == lines(
        "date,user_id,email,logged_in",
        "2026-02-01,u1,ana@acme.example,08:00:00:000",
        "2026-02-01,u2,'=cmd,01:00:00:000",
        "2026-02-03,u1,ana@acme.example,01:00:00:000",
    )


def test_r_report_3_resources_usage_without_usage_is_zeros_every_day_alphabetically(acme):
    body = fetch(acme, "resources_usage", {"from": "2026-02-01", "to": "2026-02-02"})
    rows = body.splitlines()
    assert rows[0] == "date,resource,quantity"
    assert len(rows) == 1 + 2 * 5
    assert rows[1:6] == [
        f"2026-02-01,{r},0"
        for r in ("api_requests", "byoc_minutes", "ivr_minutes", "sms_messages", "storage_gb")
    ]
    assert rows[-1] == "2026-02-02,storage_gb,0"


def test_voice_usage_header(acme):
    assert fetch(acme, "voice_usage", FEBRUARY) == lines(
        "call_id,started_at,direction,origin,destination,country,service,duration_s,"
        "adjusted_duration_s,rate_per_minute,cost"
    )


def test_r_report_1_partner_voice_usage_has_no_cost_columns(cloud, make_contract):
    cloud.upload_contract(
        make_contract("lisboa", partner="Atlantic Partners SA"), date(2026, 1, 15)
    )
    claims = {"org_id": "lisboa", "permissions": ["billing:all"]}
    body = fetch(cloud, "voice_usage", FEBRUARY, claims, org="lisboa")
    assert body == lines(
        "call_id,started_at,direction,origin,destination,country,service,duration_s,"
        "adjusted_duration_s"
    )


def test_a_report_before_any_usage_is_its_header(acme):
    body = fetch(acme, "billable_usage", {"from": "2025-12-01", "to": "2026-01-14"})
    assert body == "charge_name,entity,timestamp\n"


# -- R-api-1, R-api-3 ------------------------------------------------------------------------------


def test_r_api_1_no_claims_is_401(acme):
    response = acme.api("/orgs/acme/reports/billable_usage", None, FEBRUARY)
    assert response["status"] == 401
    assert response["body"]["error"] == "unauthorized"


def test_r_api_1_without_a_billing_permission_is_403(acme):
    claims = {"org_id": "acme", "permissions": ["directory:user:view"]}
    response = acme.api("/orgs/acme/reports/billable_usage", claims, FEBRUARY)
    assert response["status"] == 403
    assert acme.documents("reports/") == []


@pytest.mark.parametrize(
    ("path", "claims"),
    [
        ("/orgs/acme/reports/billable_usage", {"org_id": "globex", "permissions": ["billing:all"]}),
        (
            "/orgs/globex/reports/billable_usage",
            {"org_id": "globex", "permissions": ["billing:all"]},
        ),
        ("/orgs/acme/reports/invoices", BILLING),
        ("/orgs/acme/reports/BILLABLE_USAGE", BILLING),
    ],
)
def test_r_api_1_another_org_no_org_or_no_such_report_is_404(acme, path, claims):
    response = acme.api(path, claims, FEBRUARY)
    assert response["status"] == 404
    assert response["body"] == {"error": "not_found", "message": "not found"}
    assert acme.documents("reports/") == []


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-02-30", "to": "2026-03-01"},
        {"from": "2026-02-01", "to": "20260301"},
        {"from": "2026-03-02", "to": "2026-03-01"},
        {"from": "2026-01-01", "to": "2027-01-02"},  # 367 days
    ],
)
def test_r_api_3_bad_range_is_400(acme, query):
    response = acme.api("/orgs/acme/reports/concurrent_usage", BILLING, query)
    assert response["status"] == 400
    assert response["body"]["error"] == "bad_request"
    assert set(response["body"]) == {"error", "message"}


def test_r_api_3_a_range_of_366_days_is_fine(acme):
    body = fetch(acme, "concurrent_usage", {"from": "2026-01-01", "to": "2027-01-01"})
    rows = body.splitlines()
    assert len(rows) == 1 + 366
    assert (rows[1], rows[-1]) == ("2026-01-01,0,0.00,0", "2027-01-01,0,0.00,0")


def test_resources_usage_with_stored_quantities(acme):
    acme.upload_on(
        date(2026, 2, 3),
        "usage/acme/resources/r1.csv",
        b"date,resource,quantity\n2026-02-01,ivr_minutes,120.5\n2026-02-02,storage_gb,3.25\n",
    )
    assert acme.ingestion("usage/acme/resources/r1.csv").status == "accepted"
    body = fetch(acme, "resources_usage", {"from": "2026-02-01", "to": "2026-02-02"})
    assert body == lines(
        "date,resource,quantity",
        "2026-02-01,api_requests,0",
        "2026-02-01,byoc_minutes,0",
        "2026-02-01,ivr_minutes,120.5",
        "2026-02-01,sms_messages,0",
        "2026-02-01,storage_gb,0",
        "2026-02-02,api_requests,0",
        "2026-02-02,byoc_minutes,0",
        "2026-02-02,ivr_minutes,0",
        "2026-02-02,sms_messages,0",
        "2026-02-02,storage_gb,3.25",
    )


def test_r_report_2_billable_usage_lists_devices_from_the_window_start(acme, make_contract):
    # only priced device types are billed, and listed (R-price-1): price the two used here
    devices = {"physical_edge": {"monthly": "250.00"}, "phone": {"monthly": "4.00"}}
    acme.upload_contract(make_contract(devices=devices), date(2026, 2, 3))
    acme.upload_on(
        date(2026, 2, 3),
        "usage/acme/devices/d1.csv",
        b"device_id,type,active_from,active_to\n"
        b"edge-1,physical_edge,2026-01-01T00:00:00Z,\n"
        b"@phone,phone,2026-02-02T10:00:00Z,2026-02-02T12:00:00Z\n",
    )
    assert acme.ingestion("usage/acme/devices/d1.csv").status == "accepted"
    assert fetch(acme, "billable_usage", FEBRUARY) == lines(
        "charge_name,entity,timestamp",
        "Phone,'@phone,2026-02-02T10:00:00Z",
        "Physical Edge,edge-1,2026-02-01T00:00:00Z",  # the range starts inside the period
    )
