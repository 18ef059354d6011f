"""R-api-6 in a real browser: Debian's Chromium, driven by Playwright, on `cxbill serve`'s
stand-in (moto on loopback, the admin API and its console, development sign-in).

It signs in, opens each page, filters invoices by a range (and meets the empty, too-long and
signed-out states), opens an invoice as the PDF shows it, downloads the PDF through its fresh
signed URL, downloads a report CSV, and checks that a user without a billing permission is told
so (403), signing in with the keyboard alone. Screenshots of every page go to the test's
output folder (or CXBILL_SCREENSHOTS).

Without /usr/bin/chromium (`apt-get install chromium`; CI's .ci/run installs it) it is skipped,
saying so. Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import socket
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

import pytest
import requests
from moto.moto_api._internal import moto_api_backend
from pypdf import PdfReader

from cxbill.jobs import wiring
from cxbill_local import devtoken
from cxbill_local.runtime import LocalCloud, local_cloud
from cxbill_local.serve import Stand, api_server, request_handler

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TODAY = date(2026, 4, 20)  # the stand-in's day: acme has a one-time invoice and three periods

ACME = {
    "org_id": "acme",
    "name": "Acme Corp",
    "billing_address": ["Acme Corp", "1 Main St", "Springfield, IL 62701", "US"],
    "region": "us-east-1",
    "currency": "USD",
    "activation_date": "2026-01-15",
    "license_model": "named",
    "subscription": "monthly",
    "commitments": {"CX2": 2},
    "prices": {
        "CX1": {"prepay": "75.00", "overage": "90.00"},
        "CX2": {"prepay": "95.00", "overage": "115.00"},
        "CX3": {"prepay": "135.00", "overage": "160.00"},
        "DIGITAL": {"overage": "20.00"},
    },
    "devices": {"physical_edge": {"monthly": "250.00"}},
    "one_time": [{"description": "Enablement", "amount": "500.00", "date": "2026-01-15"}],
    "taxes": [{"name": "State sales tax", "rate": "0.0625"}],
    "payment_terms_days": 30,
}
NIHON = {  # yen: no minor units (R-money-1)
    **ACME,
    "org_id": "nihon",
    "name": "Nihon KK",
    "region": "ap-northeast-1",
    "currency": "JPY",
    "activation_date": "2026-02-01",
    "commitments": {},
    "prices": {
        "CX1": {"prepay": "9000", "overage": "11000"},
        "CX2": {"prepay": "12000", "overage": "14000"},
        "CX3": {"prepay": "18000", "overage": "21000"},
    },
    "devices": {},
    "one_time": [],
    "taxes": [{"name": "Consumption tax", "rate": "0.10"}],
}
LICENSES = (
    b"user_id,email,product,assigned_at,unassigned_at\n"
    b"u1,ana@example.com,CX2,2026-01-15T00:00:00Z,\n"
    b"u2,ben@example.com,CX1,2026-01-15T00:00:00Z,\n"
    b"u2,ben@example.com,DIGITAL,2026-01-15T00:00:00Z,\n"
)
LOGINS = (
    b"session_id,user_id,email,client,login_at,logout_at\n"
    b"s1,u1,ana@example.com,desktop,2026-02-03T08:00:00Z,2026-02-03T16:00:00Z\n"
    b"s2,u2,ben@example.com,web,2026-02-04T09:00:00Z,2026-02-04T10:00:00Z\n"
    b"s3,u1,ana@example.com,web,2026-03-20T09:00:00Z,2026-03-20T12:00:00Z\n"
)
DEVICES = b"device_id,type,active_from,active_to\nedge-1,physical_edge,2026-01-20T00:00:00Z,\n"


@dataclass
class Console:
    url: str
    cloud: LocalCloud
    stand: Stand
    exchanges: list[dict] = field(default_factory=list)  # the fake identity provider's log


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console() -> Iterator[Console]:
    """`cxbill serve`'s stand-in with two orgs billed through TODAY, its console on loopback."""
    if not CHROMIUM.exists():
        reason = (
            f"{CHROMIUM} is absent: the console's browser test is skipped "
            "(apt-get install chromium to run it)"
        )
        warnings.warn(reason, stacklevel=1)  # said plainly in the run's summary too
        pytest.skip(reason)
    moto_api_backend.reset()  # a loopback moto shares this process's backends: start empty
    with local_cloud(server=True, port=_free_port()) as cloud:
        wiring.settings()
        cloud.set_day(date(2026, 1, 15))
        for contract in (ACME, NIHON):
            cloud.upload(f"contracts/{contract['org_id']}.json", json.dumps(contract).encode())
        cloud.set_day(date(2026, 2, 5))
        for org in ("acme", "nihon"):
            cloud.upload(f"usage/{org}/licenses/all.csv", LICENSES)
            cloud.upload(f"usage/{org}/logins/q1.csv", LOGINS)
        cloud.upload("usage/acme/devices/all.csv", DEVICES)
        cloud.run_daily(TODAY)
        stand = Stand(cloud, TODAY)
        server = api_server(stand, 0)
        try:
            yield Console(f"http://127.0.0.1:{server.server_address[1]}", cloud, stand)
        finally:
            server.shutdown()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wanted = os.environ.get("CXBILL_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("console-screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def page(console: Console, tmp_path: Path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip package playwright missing")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a fresh user-data-dir each test
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            accept_downloads=True,
            viewport={"width": 1200, "height": 900},
        )
        try:
            page = context.new_page()
            page.set_default_timeout(20_000)
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(f"{console.url}/console/")
            page.get_by_role("heading", name="Sign in").wait_for()  # config.json read
            yield page
            assert errors == [], errors  # the console's script never failed
        finally:
            context.close()
            shutil.rmtree(tmp_path / "profile", ignore_errors=True)


def sign_in(page, org: str, permission_set: str) -> None:
    page.get_by_label("Organization").select_option(org)
    page.get_by_label("Permission set").select_option(label=permission_set)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Subscription", level=1).wait_for()


def show_range(page, first: str, last: str) -> None:
    form = page.locator("#page-invoices")
    form.get_by_label("From").fill(first)
    form.get_by_label("To").fill(last)
    page.get_by_role("button", name="Show invoices").click()


def test_r_api_6_an_admin_signs_in_and_walks_every_page(console, page, shots):
    # sign-in: an org and a permission set (the development sign-in of `cxbill serve`)
    assert page.get_by_label("Organization").locator("option").all_inner_texts() == [
        "acme",
        "nihon",
    ]
    assert page.get_by_role("button", name="Sign out").is_hidden()
    page.screenshot(path=shots / "01-sign-in.png", full_page=True)
    sign_in(page, "acme", "Billing admin (billing:all)")

    # Subscription: model, period, ramp, products with commitments, assigned and used; bill to date
    products = page.locator("#products")
    products.wait_for()
    facts = page.locator("#subscription-body dl").inner_text()
    assert "Named" in facts and "Monthly" in facts and "Apr 15, 2026 – May 14, 2026" in facts
    cx2 = products.locator("tr", has=page.locator("th", has_text="CX2")).inner_text().split()
    assert cx2 == ["CX2", "1", "2", "0"]  # assigned now, committed, used this period (no login)
    page.locator("#btd-total").wait_for()
    assert page.locator("#btd-body").get_by_text("Estimate", exact=True).is_visible()
    assert page.locator("#btd-total").inner_text().startswith("$")
    page.screenshot(path=shots / "02-subscription.png", full_page=True)

    # Invoices: the last year by default, newest first
    page.get_by_role("link", name="Invoices").click()
    rows = page.locator("#invoice-table tbody tr")
    rows.first.wait_for()
    numbers = [rows.nth(i).get_attribute("data-number") for i in range(rows.count())]
    assert numbers == ["ACME-000004", "ACME-000003", "ACME-000002", "ACME-000001"]

    # ... filtered by a range
    show_range(page, "2026-03-01", "2026-04-30")
    page.get_by_text("2 invoices issued Mar 1, 2026 – Apr 30, 2026").wait_for()
    numbers = [rows.nth(i).get_attribute("data-number") for i in range(rows.count())]
    assert numbers == ["ACME-000004", "ACME-000003"]
    total = rows.first.locator("td.num").inner_text()
    assert re.fullmatch(r"\$[\d,]+\.\d{2}", total), total
    page.screenshot(path=shots / "03-invoices.png", full_page=True)

    # View: the record's lines by section, taxes and totals, as the PDF prints them
    page.get_by_role("button", name="View ACME-000004").click()
    view = page.locator("#invoice-view")
    page.locator("#invoice-total").wait_for()
    assert page.get_by_role("heading", name="Invoice ACME-000004").is_visible()
    for text in ("Core services and fees", "Device charges", "Physical Edge", "State sales tax"):
        assert view.get_by_text(text, exact=True).first.is_visible(), text
    assert view.locator("#invoice-total").inner_text() == total
    assert page.evaluate("document.activeElement.id") == "invoice-view-title"  # focus followed
    page.screenshot(path=shots / "04-invoice-view.png", full_page=True)

    # Download: a fresh signed URL, opened in a new tab; the PDF is the invoice
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Download ACME-000004 PDF").click()
    opened.value.close()
    link = page.locator("#pdf-link")
    link.wait_for()
    url = link.get_attribute("href")
    assert url and "/invoices/acme/ACME-000004.pdf" in url and "Signature=" in url
    pdf = requests.get(url, timeout=30)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "ACME-000004" in text
    (shots / "ACME-000004.pdf").write_bytes(pdf.content)

    # An empty range says so; a range over 366 days is refused (400) in words
    show_range(page, "2025-01-01", "2025-06-30")
    page.get_by_text("No invoices in this range.").wait_for()
    page.screenshot(path=shots / "05-invoices-empty.png", full_page=True)
    show_range(page, "2025-01-01", "2026-04-20")
    page.get_by_text("The date range is too long.").wait_for()
    assert page.get_by_role("alert").inner_text().count("366 days") == 1
    page.screenshot(path=shots / "06-invoices-range-too-long.png", full_page=True)

    # Usage reports: the five, over a range, as CSV downloads
    page.get_by_role("link", name="Usage reports").click()
    buttons = page.locator("#report-list button")
    assert buttons.count() == 5
    page.locator("#page-reports").get_by_label("From").fill("2026-02-01")
    page.locator("#page-reports").get_by_label("To").fill("2026-02-28")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download Billable usage CSV").click()
    saved = shots / "billable_usage.csv"
    download.value.save_as(saved)
    assert saved.read_text().splitlines() == [  # by period: [01-15, 02-15), then [02-15, 03-15)
        "charge_name,entity,timestamp",
        "Cloud CX 1 User,ben@example.com,2026-02-04T09:00:00Z",
        "Cloud CX 2 User,ana@example.com,2026-02-03T08:00:00Z",
        "Digital Add-on,ben@example.com,2026-02-04T09:00:00Z",
        "Physical Edge,edge-1,2026-02-01T00:00:00Z",
        "Physical Edge,edge-1,2026-02-15T00:00:00Z",
    ]
    page.get_by_text("Billable usage (Feb 1, 2026 – Feb 28, 2026) is downloading.").wait_for()
    page.screenshot(path=shots / "07-reports.png", full_page=True)

    # Every control has a name a screen reader reads
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input, select, button, a[href]')]
            .filter((e) => e.offsetParent !== null)
            .filter((e) => !((e.labels && e.labels.length) || e.getAttribute('aria-label')
                             || e.textContent.trim()))
            .map((e) => e.outerHTML)"""
    )
    assert unnamed == []


def test_r_api_6_yen_amounts_have_no_decimals(console, page, shots):
    sign_in(page, "nihon", "Subscription viewer (billing:subscription:view)")
    page.get_by_role("link", name="Invoices").click()
    rows = page.locator("#invoice-table tbody tr")
    rows.first.wait_for()
    total = rows.first.locator("td.num").inner_text()
    assert re.fullmatch(r"¥[\d,]+", total), total
    page.get_by_role("button", name=re.compile(r"^View NIHON-")).first.click()
    page.locator("#invoice-total").wait_for()
    assert page.locator("#invoice-total").inner_text() == total
    amounts = page.locator("#invoice-view td.num").all_inner_texts()
    assert all("." not in a for a in amounts if a.startswith("¥")), amounts
    page.screenshot(path=shots / "08-invoice-jpy.png", full_page=True)


def test_r_api_6_without_a_billing_permission_the_console_says_so(console, page, shots):
    """Signed in with the keyboard alone (Tab, arrow keys, Enter): 403 said plainly."""
    page.get_by_label("Organization").wait_for()
    for _ in range(10):  # from the top of the page to the first field
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "dev-org":
            break
    assert page.evaluate("document.activeElement.id") == "dev-org"
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the third set: no billing permission
    assert page.get_by_label("Permission set").input_value() == "directory:user:view"
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    message = page.get_by_text("You don't have permission to see a subscription.")
    message.wait_for()
    assert "Billing > Subscription > View" in page.locator("#subscription-body").inner_text()
    page.screenshot(path=shots / "09-forbidden.png", full_page=True)
    page.get_by_role("link", name="Invoices").click()
    page.get_by_text("You don't have permission to see invoices.").wait_for()
    page.get_by_role("link", name="Usage reports").click()
    page.get_by_role("button", name="Download Voice usage CSV").click()
    page.get_by_text("You don't have permission to see usage reports.").wait_for()


def test_r_api_6_a_token_no_longer_accepted_signs_out(console, page, shots, monkeypatch):
    sign_in(page, "acme", "Subscription viewer (billing:subscription:view)")
    page.get_by_role("link", name="Invoices").click()
    page.locator("#invoice-table").wait_for()
    monkeypatch.setattr(devtoken, "SECRET", secrets.token_bytes(32))  # every token now fails: 401
    show_range(page, "2026-01-01", "2026-04-20")
    page.get_by_text("Your sign-in has ended or is missing. Sign in again.").wait_for()
    assert page.get_by_role("heading", name="Sign in").is_visible()
    assert page.locator("#nav").is_hidden() and page.locator("#who").is_hidden()
    page.screenshot(path=shots / "10-signed-out.png", full_page=True)


# ------------------------------------------------------------------ deployed sign-in (OIDC, PKCE)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def identity_provider(console: Console):
    """The stand-in's handler plus a fake OpenID Connect provider on the same origin (the
    console's CSP lets it reach https origins, or its own): discovery, an authorization endpoint
    that signs the user straight in, and a token endpoint that checks the PKCE verifier. The
    console's config.json is the deployed one (mode oidc)."""
    codes: dict[str, dict] = {}

    class Provider(request_handler(console.stand)):  # type: ignore[misc]
        def do_GET(self) -> None:  # noqa: N802
            url = urlsplit(self.path)
            origin = f"http://{self.headers['Host']}"
            query = dict(parse_qsl(url.query))
            if url.path == "/console/config.json":
                return self._send(
                    200,
                    {
                        "mode": "oidc",
                        "issuer": f"{origin}/idp/",
                        "client_id": "cxbill-console",
                        "redirect_uri": "/console/",
                        "scopes": "openid email",
                    },
                )
            if url.path == "/idp/.well-known/openid-configuration":
                return self._send(
                    200,
                    {
                        "issuer": f"{origin}/idp/",
                        "authorization_endpoint": f"{origin}/idp/authorize",
                        "token_endpoint": f"{origin}/idp/token",
                    },
                )
            if url.path == "/idp/authorize":
                code = secrets.token_urlsafe(16)
                codes[code] = query
                back = (
                    f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
                )
                self.send_response(302)
                self.send_header("Location", back)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None
            return super().do_GET()

        def do_POST(self) -> None:  # noqa: N802
            if urlsplit(self.path).path != "/idp/token":
                return super().do_POST()
            size = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(size).decode()).items()}
            asked = codes.pop(form.get("code", ""), None)
            challenge = _b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
            console.exchanges.append({"form": form, "asked": asked, "challenge": challenge})
            if asked is None or challenge != asked["code_challenge"]:
                return self._send(400, {"error": "invalid_grant"})
            claims = {"org_id": "acme", "permissions": ["billing:all"], "email": "fin@acme.example"}
            id_token = devtoken.sign({**claims, "nonce": asked["nonce"]})
            return self._send(
                200,
                {
                    "access_token": devtoken.sign(claims),
                    "id_token": id_token,
                    "token_type": "Bearer",
                },
            )

    return Provider


def test_r_api_6_deployed_sign_in_is_the_authorization_code_with_pkce(console, tmp_path, shots):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip package playwright missing")
    server = api_server(console.stand, 0, identity_provider(console))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_api.sync_playwright() as playwright:
            context = playwright.chromium.launch_persistent_context(
                str(tmp_path / "profile"),
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 1200, "height": 900},
            )
            page = context.new_page()
            page.set_default_timeout(20_000)
            page.goto(f"{url}/console/#invoices")
            assert page.locator("#dev-signin").is_hidden()  # no development sign-in deployed
            page.get_by_role("button", name="Sign in").click()
            page.locator("#invoice-table").wait_for()  # back on the page the user asked for

            (exchange,) = console.exchanges
            asked, form = exchange["asked"], exchange["form"]
            assert asked["response_type"] == "code" and asked["code_challenge_method"] == "S256"
            assert asked["client_id"] == form["client_id"] == "cxbill-console"
            assert asked["redirect_uri"] == form["redirect_uri"] == f"{url}/console/"
            assert asked["scope"] == "openid email"
            assert exchange["challenge"] == asked["code_challenge"]  # the verifier matched
            assert form["grant_type"] == "authorization_code"
            assert "client_secret" not in form and len(form["code_verifier"]) >= 43

            assert "code=" not in page.url and "state=" not in page.url
            assert page.locator("#who-text").inner_text() == "fin@acme.example · acme"
            stored = page.evaluate(
                "() => [JSON.stringify(localStorage), JSON.stringify(sessionStorage), "
                "document.cookie]"
            )
            assert stored == ["{}", "{}", ""]  # the tokens live in the page's memory only
            page.screenshot(path=shots / "11-oidc-signed-in.png", full_page=True)
            page.reload()  # memory only: a reload signs out
            page.get_by_role("heading", name="Sign in").wait_for()
            context.close()
    finally:
        server.shutdown()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
