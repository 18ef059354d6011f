"""The named model (R-named, R-contract-5): terms, measure, lines."""

from __future__ import annotations

from decimal import Decimal

from cxbill.domain.instants import parse_instant
from cxbill.domain.licensing import LicenseTerms
from cxbill.domain.licensing.named import NAMED
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import Session

DAY = 86_400_000
START = parse_instant("2026-02-01T00:00:00Z")
END = START + 3 * DAY
PRICES = {t: {"prepay": "1", "overage": "2"} for t in ("CX1", "CX2", "CX3")}


def session(user: str, login_h: float, logout_h: float) -> Session:
    login, logout = START + int(login_h * 3_600_000), START + int(logout_h * 3_600_000)
    return Session(f"{user}-{login}", user, f"{user}@x.com", "web", login, logout)


def test_r_named_2_one_unit_per_billable_user_at_their_period_tier():
    billable = [session("a", 1, 2), session("a", 30, 31), session("b", 50, 51)]
    measured = NAMED.measure(SessionRows(billable, START, END), {"a": "CX1", "b": "CX3"})
    assert measured.actual == {"CX1": 1, "CX2": 0, "CX3": 1}
    assert measured.daily == (Decimal(1), Decimal(1), Decimal(1))


def test_r_named_1_a_session_across_midnight_counts_on_both_days():
    measured = NAMED.measure(SessionRows([session("a", 23, 25)], START, END), {"a": "CX2"})
    assert measured.daily == (Decimal(1), Decimal(1), Decimal(0))


def test_r_named_1_a_zero_length_session_counts_on_its_day():
    measured = NAMED.measure(SessionRows([session("a", 30, 30)], START, END), {"a": "CX1"})
    assert measured.daily == (Decimal(0), Decimal(1), Decimal(0))


def test_r_contract_5_named_needs_overage_prices_and_prepay_of_committed_tiers():
    ok = LicenseTerms({"CX2": 5}, {"CX2": 5}, {"CX2": 5}, PRICES)
    assert NAMED.term_problems(ok) == []
    prices = {**PRICES, "CX1": {"prepay": "1"}, "CX2": {"overage": "2"}}
    problems = NAMED.term_problems(LicenseTerms({"CX2": 5}, {"CX2": 5}, {"CX2": 5}, prices))
    assert [p.path for p in problems] == ["prices.CX1.overage", "prices.CX2.prepay"]


def test_r_sub_named_lines():
    assert NAMED.line_name("CX2") == "Cloud CX 2 User"
    assert NAMED.prepay_name("CX2") == "Cloud CX 2 User – Prepay"
    assert (NAMED.product("CX2"), NAMED.prepay_product("CX2")) == ("CX2", "CX2_PREPAY")
    assert NAMED.prepaid and NAMED.arrears_price == "overage"
    assert NAMED.chart_title == "Daily billable users"
