"""The concurrent model (R-conc, R-contract-5): terms, measure, lines."""

from __future__ import annotations

from decimal import Decimal

from cxbill.domain.instants import parse_instant
from cxbill.domain.licensing import LicenseTerms
from cxbill.domain.licensing.concurrent import CONCURRENT
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import Session

DAY = 86_400_000
START = parse_instant("2026-02-02T00:00:00Z")


def session(user: str, login: str, logout: str) -> Session:
    at = parse_instant(f"2026-02-02T{login}:00Z"), parse_instant(f"2026-02-02T{logout}:00Z")
    return Session(f"{user}-{login}", user, "", "web", *at)


def test_r_conc_4_worked_example():
    """10 CX1 users 09:00-17:00; 3 CX3 users 09:00-09:20 and 2 of them again 10:00-11:00."""
    billable = [session(f"a{i}", "09:00", "17:00") for i in range(10)]
    billable += [session(f"c{i}", "09:00", "09:20") for i in range(3)]
    billable += [session(f"c{i}", "10:00", "11:00") for i in range(2)]
    tiers = {**{f"a{i}": "CX1" for i in range(10)}, **{f"c{i}": "CX3" for i in range(3)}}
    measured = CONCURRENT.measure(SessionRows(billable, START, START + DAY), tiers)
    assert measured.actual == {"CX1": 10, "CX2": 0, "CX3": 2}
    assert measured.daily == (Decimal(12),)


def test_r_conc_2_a_peak_held_exactly_30_minutes_counts():
    billable = [session("a", "09:00", "09:30"), session("b", "09:00", "09:29")]
    measured = CONCURRENT.measure(
        SessionRows(billable, START, START + DAY), {"a": "CX2", "b": "CX2"}
    )
    assert measured.actual == {"CX1": 0, "CX2": 1, "CX3": 0}


def test_r_contract_5_concurrent_needs_overage_prices():
    prices = {"CX1": {"overage": "1"}, "CX2": {"hourly": "1"}, "CX3": {"overage": "1"}}
    problems = CONCURRENT.term_problems(LicenseTerms({}, {}, {}, prices))
    assert [p.path for p in problems] == ["prices.CX2.overage"]


def test_r_sub_concurrent_lines():
    assert CONCURRENT.line_name("CX1") == "Cloud CX 1 Concurrent User"
    assert CONCURRENT.prepay_name("CX3") == "Cloud CX 3 Concurrent User – Prepay"
    assert (CONCURRENT.product("CX3"), CONCURRENT.prepay_product("CX3")) == ("CX3", "CX3_PREPAY")
    assert CONCURRENT.prepaid and CONCURRENT.chart_title == "Daily sustained peak"
