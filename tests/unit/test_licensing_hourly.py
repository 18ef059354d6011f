"""The hourly model (R-hourly, R-contract-4/5): terms, measure, lines."""

from __future__ import annotations

from decimal import Decimal

from cxbill.domain.instants import parse_instant
from cxbill.domain.licensing import LicenseTerms
from cxbill.domain.licensing.hourly import HOURLY
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import Session

DAY = 86_400_000
START = parse_instant("2026-02-02T00:00:00Z")
PRICES = {t: {"hourly": "1.10"} for t in ("CX1", "CX2", "CX3")}


def session(user: str, login: str, logout: str) -> Session:
    return Session(f"{user}-{login}", user, "", "web", parse_instant(login), parse_instant(logout))


def test_r_hourly_1_union_per_user_summed_per_tier_in_hours():
    billable = [
        session("a", "2026-02-02T09:00:00Z", "2026-02-02T11:00:00Z"),
        session("a", "2026-02-02T10:00:00Z", "2026-02-02T12:00:00Z"),  # overlap counted once
        session("b", "2026-02-02T23:00:00Z", "2026-02-03T00:45:00Z"),  # across midnight
    ]
    measured = HOURLY.measure(
        SessionRows(billable, START, START + 2 * DAY), {"a": "CX1", "b": "CX3"}
    )
    assert measured.actual == {
        "CX1": Decimal("3.00"),
        "CX2": Decimal("0.00"),
        "CX3": Decimal("1.75"),
    }
    assert measured.daily == (Decimal("4.00"), Decimal("0.75"))


def test_r_contract_4_hourly_has_no_commitments():
    assert HOURLY.term_problems(LicenseTerms({}, {}, {}, PRICES)) == []
    problems = HOURLY.term_problems(LicenseTerms({"CX1": 0}, {"CX1": 0}, {}, PRICES))
    assert [(p.path, p.value) for p in problems] == [("commitments", {"CX1": 0})]


def test_r_contract_5_hourly_needs_hourly_prices_not_overage():
    prices = {**PRICES, "CX2": {"overage": "90.00"}}
    problems = HOURLY.term_problems(LicenseTerms({}, {}, {}, prices))
    assert [p.path for p in problems] == ["prices.CX2.hourly"]


def test_r_hourly_2_no_prepay_and_hours_lines():
    assert not HOURLY.prepaid
    assert HOURLY.arrears_price == "hourly"
    assert HOURLY.line_name("CX2") == "Cloud CX 2 User Hours"
    assert HOURLY.product("CX2") == "CX2_HOURS"
    assert HOURLY.chart_title == "Daily hours"
