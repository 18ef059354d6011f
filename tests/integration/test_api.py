"""The admin API (SPEC 8) through functions/api with API Gateway HTTP API (payload 2.0) events."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests

from cxbill.adapters.models import LedgerItem
from cxbill.jobs import wiring
from cxbill_local.runtime import LambdaContext, LocalCloud, local_cloud

pytestmark = pytest.mark.integration

ACME = "/orgs/acme/invoices"
BILLING = {"org_id": "acme", "permissions": ["billing:all"]}
RECORD_KEYS = {
    "number",
    "kind",
    "org_id",
    "issue_date",
    "due_date",
    "currency",
    "period_start",
    "period_end",
    "lines",
    "subtotal",
    "taxes",
    "total",
    "warnings",
}


def issue_invoices(cloud: LocalCloud, contract: dict) -> None:
    """Activated 01-15 with a one-time charge that day; by 04-20: one_time + 3 periods."""
    cloud.set_day(date(2026, 1, 15))
    cloud.upload(f"contracts/{contract['org_id']}.json", json.dumps(contract).encode())
    cloud.run_daily(date(2026, 4, 20))


def contract_of(make_contract, org_id: str) -> dict:
    return make_contract(
        org_id,
        commitments={"CX2": 2},
        one_time=[{"description": "Enablement", "amount": "500.00", "date": "2026-01-15"}],
    )


def stored_record(number: str, org_id: str = "acme") -> dict:
    return json.loads(LedgerItem.get(org_id, f"invoice#{number}").record)


@pytest.fixture(scope="class")
def api(make_contract) -> Iterator[LocalCloud]:
    """One stack for the read-only routes: acme's and globex's invoices, issued once."""
    with local_cloud() as cloud:
        wiring.settings()
        for org_id in ("acme", "globex"):
            issue_invoices(cloud, contract_of(make_contract, org_id))
        yield cloud


class TestInvoiceRoutes:
    """Read-only routes; the stack is torn down before the loopback test below starts."""

    # -- R-api-1: who may ask --

    def test_r_api_1_no_claims_is_401(self, api):
        response = api.api(f"{ACME}/ACME-000001", None)
        assert response["status"] == 401
        assert response["body"]["error"] == "unauthorized"

    @pytest.mark.parametrize("permissions", [[], ["directory:user:view"], "[directory:user:view]"])
    def test_r_api_1_claims_without_a_billing_permission_is_403(self, api, permissions):
        claims = {"org_id": "acme", "permissions": permissions}
        for path in (ACME, f"{ACME}/ACME-000001", f"{ACME}/ACME-000001/pdf"):
            assert api.api(path, claims)["status"] == 403

    @pytest.mark.parametrize(
        "permissions",
        [
            ["billing:all"],
            ["billing:subscription:view"],
            ["directory:user:view", "billing:subscription:add"],
            "[billing:all]",  # API Gateway flattens a list claim into this string
            "[directory:user:view billing:subscription:view]",
        ],
    )
    def test_r_api_1_billing_permission_as_list_or_flattened_string(self, api, permissions):
        response = api.api(f"{ACME}/ACME-000002", {"org_id": "acme", "permissions": permissions})
        assert response["status"] == 200
        assert response["body"]["number"] == "ACME-000002"

    @pytest.mark.parametrize("suffix", ["", "/pdf"])
    def test_r_api_1_another_orgs_invoice_is_404(self, api, suffix):
        globex_caller = {"org_id": "globex", "permissions": ["billing:all"]}
        # a caller of globex asking for acme's invoice under acme's path ...
        assert api.api(f"{ACME}/ACME-000001{suffix}", globex_caller)["status"] == 404
        # ... and an acme caller naming globex's (existing) invoice under its own path
        response = api.api(f"{ACME}/GLOBEX-000001{suffix}", BILLING)
        assert response["status"] == 404
        assert response["body"]["error"] == "not_found"
        assert "GLOBEX" not in json.dumps(response["body"])

    @pytest.mark.parametrize("suffix", ["", "/pdf"])
    def test_r_api_1_unknown_number_is_404(self, api, suffix):
        response = api.api(f"{ACME}/ACME-000099{suffix}", BILLING)
        assert response["status"] == 404
        assert set(response["body"]) == {"error", "message"}

    # -- R-api-3: ranges --

    @pytest.mark.parametrize(
        "query",
        [
            {"from": "2026-13-01", "to": "2026-04-30"},
            {"from": "2026-01-01", "to": "30/04/2026"},
            {"from": "20260101", "to": "2026-04-30"},  # ISO 8601, but not YYYY-MM-DD
            {"from": "2026-W01-1", "to": "2026-04-30"},
            {"from": "2026-05-01", "to": "2026-04-30"},
            {"from": "2026-01-01", "to": "2027-01-02"},  # 367 days
        ],
    )
    def test_r_api_3_bad_dates_or_too_long_a_range_is_400(self, api, query):
        response = api.api(ACME, BILLING, query)
        assert response["status"] == 400
        assert set(response["body"]) == {"error", "message"}
        assert response["body"]["error"] == "bad_request"
        assert response["body"]["message"]

    # -- R-api-4: every answer is JSON in R-api-3's shape --

    @pytest.mark.parametrize(
        ("path", "query"),
        [
            ("/orgs/acme/bill-to-date", {"as_of": "9999-12-31"}),
            ("/orgs/acme/subscription", {"as_of": "1999-12-31"}),
            ("/orgs/acme/reports/user_hours", {"from": "9999-01-01", "to": "9999-01-02"}),
            (ACME, {"from": "2100-01-01"}),
        ],
    )
    def test_r_api_4_dates_outside_the_century_are_400(self, api, path, query):
        response = api.api(path, {"org_id": "acme", "permissions": ["billing:all"]}, query)
        assert response["status"] == 400
        assert response["body"]["error"] == "bad_request"

    def test_r_api_4_an_overlong_invoice_number_is_404(self, api):
        response = api.api(f"{ACME}/{'A' * 65}", {"org_id": "acme", "permissions": ["billing:all"]})
        assert (response["status"], response["body"]["error"]) == (404, "not_found")

    @pytest.mark.parametrize("permissions", [{"billing:all": True}, 7, None, [1, 2]])
    def test_r_api_4_a_permissions_claim_that_is_no_list_holds_none(self, api, permissions):
        response = api.api(f"{ACME}/ACME-000001", {"org_id": "acme", "permissions": permissions})
        assert (response["status"], response["body"]["error"]) == (403, "forbidden")

    def test_r_api_4_an_unknown_route_is_a_json_404(self, api):
        response = api.api("/nowhere/at/all", {"org_id": "acme", "permissions": ["billing:all"]})
        assert response["status"] == 404
        assert set(response["body"]) >= {"error", "message"}

    def test_r_api_4_an_unexpected_failure_is_a_json_500_with_the_request_id(
        self, api, monkeypatch
    ):
        desk = wiring.invoice_desk()
        monkeypatch.setattr(desk, "record", lambda org_id, number: 1 / 0)
        response = api.api(
            f"{ACME}/ACME-000001", {"org_id": "acme", "permissions": ["billing:all"]}
        )
        assert response["status"] == 500
        body = response["body"]
        assert body["error"] == "internal" and body["request_id"]
        assert "Traceback" not in json.dumps(body) and "ZeroDivision" not in json.dumps(body)

    def test_r_api_3_a_range_of_366_days_is_fine(self, api):
        response = api.api(ACME, BILLING, {"from": "2026-01-01", "to": "2027-01-01"})
        assert response["status"] == 200
        assert len(response["body"]["invoices"]) == 4

    # -- the routes --

    def test_list_by_date_range_newest_first(self, api):
        response = api.api(ACME, BILLING, {"from": "2026-01-01", "to": "2026-04-30"})

        assert response["status"] == 200
        rows = response["body"]["invoices"]
        assert [(r["number"], r["kind"], r["issue_date"]) for r in rows] == [
            ("ACME-000004", "period", "2026-04-15"),
            ("ACME-000003", "period", "2026-03-15"),
            ("ACME-000002", "period", "2026-02-15"),
            ("ACME-000001", "one_time", "2026-01-15"),
        ]
        newest = stored_record("ACME-000004")
        assert rows[0]["total"] == newest["total"]
        assert rows[0]["currency"] == "USD"
        assert (rows[0]["period_start"], rows[0]["period_end"]) == (
            newest["period_start"],
            newest["period_end"],
        )

    def test_list_keeps_to_the_range_both_ends_included(self, api):
        response = api.api(ACME, BILLING, {"from": "2026-02-15", "to": "2026-03-15"})
        numbers = [r["number"] for r in response["body"]["invoices"]]
        assert numbers == ["ACME-000003", "ACME-000002"]

    def test_r_invoice_5_get_returns_the_record(self, api):
        response = api.api(f"{ACME}/ACME-000002", BILLING)

        assert response["status"] == 200
        record = response["body"]
        assert set(record) == RECORD_KEYS
        assert record == stored_record("ACME-000002")
        assert (record["kind"], record["org_id"], record["currency"]) == ("period", "acme", "USD")
        assert (record["period_start"], record["period_end"]) == (
            "2026-01-15T00:00:00Z",
            "2026-02-15T00:00:00Z",
        )
        assert [t["name"] for t in record["taxes"]] == ["State sales tax", "County tax"]

    def test_hand_written_api_gateway_event(self, api, load_event):
        """The event as API Gateway sends it, with the flattened permissions claim."""
        event = load_event("api_get_invoice.json")
        claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
        assert isinstance(claims["permissions"], str)

        response = api.functions["api"].handler(event, LambdaContext("api"))

        assert response["statusCode"] == 200
        assert json.loads(response["body"]) == stored_record("ACME-000002")

    # -- R-api-2: presigned URLs --

    def test_r_api_2_pdf_url_expires_in_300_s_and_names_one_object(self, api):
        before = datetime.now(UTC).replace(microsecond=0)
        response = api.api(f"{ACME}/ACME-000003/pdf", BILLING)

        assert response["status"] == 200
        url = urlsplit(response["body"]["url"])
        query = parse_qs(url.query)
        assert query["X-Amz-Expires"] == ["300"]
        assert query["X-Amz-SignedHeaders"] == ["host"]
        assert unquote(url.path) == (f"/{api.stack.documents_bucket}/invoices/acme/ACME-000003.pdf")
        assert "*" not in url.path and "prefix" not in query
        expires_at = datetime.fromisoformat(response["body"]["expires_at"].replace("Z", "+00:00"))
        assert before + timedelta(seconds=299) <= expires_at <= before + timedelta(seconds=302)


def test_r_api_2_presigned_url_fetches_the_stored_pdf_over_loopback(make_contract):
    with local_cloud(server=True) as cloud:
        wiring.settings()
        issue_invoices(cloud, contract_of(make_contract, "acme"))
        item = LedgerItem.get("acme", "invoice#ACME-000002")

        response = cloud.api(f"{ACME}/ACME-000002/pdf", BILLING)
        assert response["status"] == 200
        url = response["body"]["url"]
        assert urlsplit(url).hostname == "127.0.0.1"  # nothing leaves the machine
        fetched = requests.get(url, timeout=10)

        assert fetched.status_code == 200
        assert fetched.content == cloud.get_document("invoices/acme/ACME-000002.pdf")
        assert hashlib.sha256(fetched.content).hexdigest() == item.pdf_sha256


def test_r_pdf_3_the_api_record_names_the_seller_copied_at_issue(make_contract):
    seller = {
        "legal_name": "Cloud CX Billing Inc.",
        "address": ["500 Harbor Blvd", "Boston, MA 02110"],
        "tax_id": "EIN 12-3456789",
        "email": "billing@cxbill.example",
        "remittance": ["ACH: First Demo Bank, account 000123456789"],
    }
    with local_cloud() as cloud:
        cloud.set_day(date(2026, 1, 14))
        cloud.upload("config/issuer.json", json.dumps(seller).encode())
        issue_invoices(cloud, contract_of(make_contract, "acme"))
        response = cloud.api(
            f"{ACME}/ACME-000001", {"org_id": "acme", "permissions": ["billing:all"]}
        )

    assert response["status"] == 200
    assert response["body"]["issuer"] == seller
