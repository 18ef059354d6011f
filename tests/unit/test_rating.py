"""License quantities per period: R-tier, R-named, R-conc (through rate_licenses), R-hourly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cxbill.domain.instants import parse_instant
from cxbill.domain.periods import billing_period
from cxbill.domain.rating import rate_licenses
from cxbill.domain.usage import OPEN_END, Assignment, Session

D = Decimal
ACTIVATION = date(2026, 1, 15)
P0 = billing_period(ACTIVATION, 0)  # [2026-01-15, 2026-02-15)
P1 = billing_period(ACTIVATION, 1)  # [2026-02-15, 2026-03-15)


def ms(text: str) -> int:
    """'2026-02-01T09:00' (UTC) as epoch ms."""
    return parse_instant(text + (":00Z" if len(text) == 16 else "Z"))


def session(user: str, login: str, logout: str, client: str = "web", sid: str = "") -> Session:
    sid = sid or f"{user}-{login}-{client}"
    return Session(sid, user, f"{user}@x.com", client, ms(login), ms(logout))


def assign(user: str, product: str, start: str = "2026-01-01T00:00", end: str | None = None):
    return Assignment(
        user, f"{user}@x.com", product, ms(start), OPEN_END if end is None else ms(end)
    )


def actual(usage) -> dict[str, Decimal]:
    return dict(usage.actual)


def tiers(cx1=0, cx2=0, cx3=0) -> dict[str, Decimal]:
    return {"CX1": D(cx1), "CX2": D(cx2), "CX3": D(cx3)}


@pytest.fixture
def named(make_contract):
    return make_contract(default_tier="CX2")


# --- R-named-1 ------------------------------------------------------------------------------------


def test_r_named_1_session_spanning_two_periods_bills_in_both(named):
    sessions = [session("u1", "2026-02-14T23:00", "2026-02-15T01:00")]
    assignments = [assign("u1", "CX1")]
    assert actual(rate_licenses(named, P0, sessions, assignments)) == tiers(cx1=1)
    assert actual(rate_licenses(named, P1, sessions, assignments)) == tiers(cx1=1)


def test_r_named_1_session_ending_at_period_start_does_not_bill(named):
    sessions = [session("u1", "2026-02-14T23:00", "2026-02-15T00:00")]
    assert actual(rate_licenses(named, P1, sessions, [assign("u1", "CX1")])) == tiers()
    assert actual(rate_licenses(named, P0, sessions, [assign("u1", "CX1")])) == tiers(cx1=1)


@pytest.mark.parametrize(
    ("instant", "in_p0", "in_p1"),
    [
        ("2026-02-01T12:00", True, False),  # inside P0
        ("2026-01-15T00:00", True, False),  # at ps of P0
        ("2026-02-15T00:00", False, True),  # at pe of P0 == ps of P1
        ("2026-01-14T23:59", False, False),  # before activation
    ],
)
def test_r_named_1_zero_length_session_counts_when_its_instant_lies_in_p(
    named, instant, in_p0, in_p1
):
    sessions = [session("u1", instant, instant)]
    assignments = [assign("u1", "CX3")]
    assert actual(rate_licenses(named, P0, sessions, assignments))["CX3"] == int(in_p0)
    assert actual(rate_licenses(named, P1, sessions, assignments))["CX3"] == int(in_p1)


def test_r_named_1_one_unit_per_user_however_many_sessions(named):
    sessions = [
        session("u1", "2026-01-20T09:00", "2026-01-20T10:00"),
        session("u1", "2026-01-21T09:00", "2026-01-21T10:00", client="desktop"),
        session("u1", "2026-01-22T09:00", "2026-01-22T10:00", client="mobile"),
        session("u2", "2026-01-22T09:00", "2026-01-22T10:00", client="mobile"),
    ]
    usage = rate_licenses(named, P0, sessions, [assign("u1", "CX1"), assign("u2", "CX1")])
    assert actual(usage) == tiers(cx1=2)
    points = dict(usage.chart.points)
    assert usage.chart.title == "Daily billable users"
    assert len(points) == 31
    assert points[date(2026, 1, 20)] == 1
    assert points[date(2026, 1, 22)] == 2
    assert points[date(2026, 1, 23)] == 0


def test_r_named_1_teams_and_api_only_users_not_billable(named):
    sessions = [
        session("teams-only", "2026-01-20T09:00", "2026-01-20T17:00", client="teams"),
        session("api-only", "2026-01-20T09:00", "2026-01-20T17:00", client="api"),
        session("both", "2026-01-20T09:00", "2026-01-20T17:00", client="teams"),
        session("both", "2026-01-21T09:00", "2026-01-21T09:05", client="web"),
    ]
    assignments = [assign(u, "CX1") for u in ("teams-only", "api-only", "both")]
    usage = rate_licenses(named, P0, sessions, assignments)
    assert actual(usage) == tiers(cx1=1)
    assert usage.warnings == []


def test_r_named_1_licensed_user_who_never_logs_in_is_not_billed(named):
    assert actual(rate_licenses(named, P0, [], [assign("u1", "CX3")])) == tiers()


# --- R-named-2 ------------------------------------------------------------------------------------


def test_r_named_2_user_added_on_the_last_day_bills_a_full_period(named):
    assignments = [assign("late", "CX2", start="2026-02-14T10:00")]
    sessions = [session("late", "2026-02-14T10:00", "2026-02-14T11:00")]
    assert actual(rate_licenses(named, P0, sessions, assignments)) == tiers(cx2=1)


def test_r_named_2_actual_quantity_per_tier(named):
    users = {"a": "CX1", "b": "CX1", "c": "CX2", "d": "CX3", "e": "CX3", "f": "CX3"}
    sessions = [session(u, "2026-01-20T09:00", "2026-01-20T10:00") for u in users]
    assignments = [assign(u, t) for u, t in users.items()]
    assert actual(rate_licenses(named, P0, sessions, assignments)) == tiers(2, 1, 3)


# --- R-tier-1 -------------------------------------------------------------------------------------


def test_r_tier_1_upgrade_mid_period_bills_the_highest_tier(named):
    assignments = [
        assign("u1", "CX1", end="2026-02-01T00:00"),
        assign("u1", "CX3", start="2026-02-01T00:00"),
    ]
    sessions = [session("u1", "2026-01-20T09:00", "2026-01-20T10:00")]  # logged in as CX1 only
    assert actual(rate_licenses(named, P0, sessions, assignments)) == tiers(cx3=1)


def test_r_tier_1_downgrade_mid_period_still_bills_the_highest_tier(named):
    assignments = [
        assign("u1", "CX3", end="2026-01-16T00:00"),
        assign("u1", "CX1", start="2026-01-16T00:00"),
    ]
    sessions = [session("u1", "2026-02-10T09:00", "2026-02-10T10:00")]
    assert actual(rate_licenses(named, P0, sessions, assignments)) == tiers(cx3=1)
    sessions_p1 = [session("u1", "2026-02-20T09:00", "2026-02-20T10:00")]
    assert actual(rate_licenses(named, P1, sessions_p1, assignments)) == tiers(cx1=1)


def test_r_tier_1_one_second_assignment_counts(named):
    assignments = [
        assign("u1", "CX1"),
        Assignment("u1", "", "CX2", ms("2026-02-03T10:00"), ms("2026-02-03T10:00") + 1000),
    ]
    sessions = [session("u1", "2026-01-20T09:00", "2026-01-20T10:00")]
    assert actual(rate_licenses(named, P0, sessions, assignments)) == tiers(cx2=1)


def test_r_tier_1_zero_length_assignment_ignored(named):
    assignments = [
        assign("u1", "CX1"),
        assign("u1", "CX3", start="2026-02-03T10:00", end="2026-02-03T10:00"),
    ]
    sessions = [session("u1", "2026-01-20T09:00", "2026-01-20T10:00")]
    usage = rate_licenses(named, P0, sessions, assignments)
    assert actual(usage) == tiers(cx1=1)


def test_r_tier_1_assignment_ending_at_period_start_does_not_count(named):
    assignments = [assign("u1", "CX3", end="2026-02-15T00:00"), assign("u1", "CX1")]
    sessions = [session("u1", "2026-02-20T09:00", "2026-02-20T10:00")]
    assert actual(rate_licenses(named, P1, sessions, assignments)) == tiers(cx1=1)


def test_r_tier_1_assignment_ending_mid_period_bills_at_that_tier(named):
    assignments = [assign("u1", "CX3", end="2026-01-20T00:00")]
    sessions = [session("u1", "2026-02-01T09:00", "2026-02-01T10:00")]  # after the unassignment
    usage = rate_licenses(named, P0, sessions, assignments)
    assert actual(usage) == tiers(cx3=1)
    assert usage.warnings == []


# --- R-tier-2 -------------------------------------------------------------------------------------


def test_r_tier_2_deleted_user_bills_at_default_tier_with_a_warning(named):
    assignments = [assign("gone", "CX3", end="2026-01-10T00:00")]  # all ended before P0
    sessions = [session("gone", "2026-01-20T09:00", "2026-01-20T10:00")]
    usage = rate_licenses(named, P0, sessions, assignments)
    assert actual(usage) == tiers(cx2=1)  # default_tier CX2
    assert len(usage.warnings) == 1
    assert "gone" in usage.warnings[0] and "CX2" in usage.warnings[0]


def test_r_tier_2_default_tier_defaults_to_cx1(make_contract):
    sessions = [session("nolicense", "2026-01-20T09:00", "2026-01-20T10:00")]
    usage = rate_licenses(make_contract(), P0, sessions, [])
    assert actual(usage) == tiers(cx1=1)
    assert ["nolicense" in w for w in usage.warnings] == [True]


# --- R-named-3 ------------------------------------------------------------------------------------


def test_r_named_3_add_ons_only_on_cx1_and_cx2_billable_users(named):
    assignments = [
        assign("cx1", "CX1"),
        assign("cx1", "DIGITAL"),
        assign("cx1", "WEM"),
        assign("cx2", "CX2"),
        assign("cx2", "DIGITAL"),
        assign("cx3", "CX3"),
        assign("cx3", "DIGITAL"),
        assign("cx3", "WEM"),
        assign("idle", "CX1"),
        assign("idle", "DIGITAL"),  # never logs in
        assign("old", "CX1"),
        assign("old", "WEM", end="2026-01-10T00:00"),  # add-on ended before P
    ]
    sessions = [
        session(u, "2026-01-20T09:00", "2026-01-20T10:00") for u in ("cx1", "cx2", "cx3", "old")
    ]
    usage = rate_licenses(named, P0, sessions, assignments)
    assert actual(usage) == tiers(2, 1, 1)
    assert usage.add_ons == {"DIGITAL": 2, "WEM": 1}


def test_r_named_3_add_on_not_billed_when_upgraded_to_cx3_in_the_period(named):
    assignments = [
        assign("u1", "CX2"),
        assign("u1", "WEM"),
        assign("u1", "CX3", start="2026-02-10T00:00", end="2026-02-10T00:00"),
    ]
    # A zero-length CX3 does not count: still CX2 and WEM bills.
    sessions = [session("u1", "2026-01-20T09:00", "2026-01-20T10:00")]
    assert rate_licenses(named, P0, sessions, assignments).add_ons == {"DIGITAL": 0, "WEM": 1}
    assignments[-1] = assign("u1", "CX3", start="2026-02-10T00:00", end="2026-02-10T01:00")
    assert rate_licenses(named, P0, sessions, assignments).add_ons == {"DIGITAL": 0, "WEM": 0}


def test_r_named_3_add_on_for_unlicensed_user_at_default_cx1(make_contract):
    sessions = [session("u1", "2026-01-20T09:00", "2026-01-20T10:00")]
    usage = rate_licenses(make_contract(), P0, sessions, [assign("u1", "DIGITAL")])
    assert actual(usage) == tiers(cx1=1)
    assert usage.add_ons == {"DIGITAL": 1, "WEM": 0}


# --- R-conc (through rate_licenses) ---------------------------------------------------------------


def test_r_conc_4_worked_example_through_rate_licenses(make_contract):
    contract = make_contract(license_model="concurrent")
    day = "2026-02-02"
    sessions = [session(f"a{i}", f"{day}T09:00", f"{day}T17:00") for i in range(10)]
    sessions += [session(f"c{i}", f"{day}T09:00", f"{day}T09:20") for i in range(3)]
    sessions += [session(f"c{i}", f"{day}T10:00", f"{day}T11:00") for i in range(2)]
    assignments = [assign(f"a{i}", "CX1") for i in range(10)]
    assignments += [assign(f"c{i}", "CX3") for i in range(3)]
    usage = rate_licenses(contract, P0, sessions, assignments)
    assert actual(usage) == tiers(cx1=10, cx2=0, cx3=2)
    assert sum(usage.actual.values()) == 12
    assert usage.chart.title == "Daily sustained peak"
    assert dict(usage.chart.points)[date(2026, 2, 2)] == 12
    assert dict(usage.chart.points)[date(2026, 2, 3)] == 0


def test_r_conc_3_tier_split_highest_first(make_contract):
    contract = make_contract(license_model="concurrent")
    day = "2026-02-02"
    sessions = [session(f"a{i}", f"{day}T09:00", f"{day}T17:00") for i in range(10)]
    sessions += [session(f"b{i}", f"{day}T10:00", f"{day}T12:00") for i in range(3)]
    sessions += [session(f"c{i}", f"{day}T10:00", f"{day}T11:00") for i in range(2)]
    # a user of CX2 with two overlapping sessions counts once (R-conc-1)
    sessions += [session("b0", f"{day}T10:30", f"{day}T11:30", client="desktop")]
    assignments = [assign(f"a{i}", "CX1") for i in range(10)]
    assignments += [assign(f"b{i}", "CX2") for i in range(3)]
    assignments += [assign(f"c{i}", "CX3") for i in range(2)]
    usage = rate_licenses(contract, P0, sessions, assignments)
    # peak(all) = 15, peak(>=CX2) = 5, peak(>=CX3) = 2
    assert actual(usage) == tiers(cx1=10, cx2=3, cx3=2)


def test_r_conc_5_add_ons_bill_as_named(make_contract):
    contract = make_contract(license_model="concurrent")
    sessions = [session("u1", "2026-02-02T09:00", "2026-02-02T09:10")]  # too short for a peak
    usage = rate_licenses(contract, P0, sessions, [assign("u1", "CX1"), assign("u1", "DIGITAL")])
    assert actual(usage) == tiers()
    assert usage.add_ons == {"DIGITAL": 1, "WEM": 0}


# --- R-hourly -------------------------------------------------------------------------------------


def test_r_hourly_1_hours_per_tier_overlapping_sessions_counted_once(make_contract):
    contract = make_contract(license_model="hourly")
    sessions = [
        session("a", "2026-02-02T09:00", "2026-02-02T11:00"),
        session("a", "2026-02-02T10:00", "2026-02-02T12:00", client="desktop"),  # overlap: 3 h
        session("c", "2026-02-03T08:00", "2026-02-03T08:45"),  # 0.75 h
        session("b", "2026-02-04T09:00", "2026-02-04T10:30"),  # 1.5 h
        session("b", "2026-02-04T10:00", "2026-02-04T10:15", client="teams"),  # not billable
        session("b", "2026-02-14T23:00", "2026-02-15T02:00"),  # 1 h inside P0
    ]
    assignments = [assign("a", "CX1"), assign("b", "CX2"), assign("c", "CX1")]
    usage = rate_licenses(contract, P0, sessions, assignments)
    assert actual(usage) == {"CX1": D("3.75"), "CX2": D("2.50"), "CX3": D("0.00")}
    assert usage.chart.title == "Daily hours"
    assert dict(usage.chart.points)[date(2026, 2, 2)] == D("3.00")
    assert dict(usage.chart.points)[date(2026, 2, 14)] == D("1.00")
    assert actual(rate_licenses(contract, P1, sessions, assignments))["CX2"] == D("2.00")


def test_r_hourly_1_total_rounded_half_up_to_two_decimals(make_contract):
    contract = make_contract(license_model="hourly")
    start = ms("2026-02-02T09:00")
    sessions = [
        Session("s1", "a", "", "web", start, start + 18_000),  # 18 s = 0.005 h -> 0.01
        Session("s2", "b", "", "web", start, start + 17_999),  # just under -> 0.00
    ]
    usage = rate_licenses(contract, P0, sessions, [assign("a", "CX1"), assign("b", "CX2")])
    assert actual(usage) == {"CX1": D("0.01"), "CX2": D("0.00"), "CX3": D("0.00")}


def test_r_hourly_1_summed_per_tier_before_rounding(make_contract):
    contract = make_contract(license_model="hourly")
    start = ms("2026-02-02T09:00")
    sessions = [Session(f"s{i}", f"u{i}", "", "web", start, start + 12_000) for i in range(3)]
    usage = rate_licenses(contract, P0, sessions, [assign(f"u{i}", "CX3") for i in range(3)])
    assert usage.actual["CX3"] == D("0.01")  # 36 s = 0.01 h; each user alone would round to 0.00


# --- bill to date ---------------------------------------------------------------------------------


def test_rate_licenses_end_ms_cuts_the_period(named):
    sessions = [
        session("early", "2026-01-20T09:00", "2026-01-20T10:00"),
        session("later", "2026-02-01T09:00", "2026-02-01T10:00"),
    ]
    assignments = [assign("early", "CX1"), assign("later", "CX3")]
    usage = rate_licenses(named, P0, sessions, assignments, end_ms=ms("2026-01-25T00:00"))
    assert actual(usage) == tiers(cx1=1)
    assert len(usage.chart.points) == 10
