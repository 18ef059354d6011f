"""Billing periods anchored to the activation date (R-period-1..5)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from cxbill.domain.instants import DAY_MS, date_ms, ms_date, parse_instant
from cxbill.domain.periods import (
    CLOSE_GRACE_MS,
    add_months,
    billing_period,
    is_ramp,
    period_containing,
    period_index_on,
)

RUN_OFFSET_MS = 30 * 60 * 1000  # the daily run is at 00:30 UTC

activations = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def starts(activation: date, count: int) -> list[date]:
    return [billing_period(activation, k).start for k in range(count)]


# --- R-period-1 -----------------------------------------------------------------------------------


def test_r_period_1_jan_15_runs_to_feb_14_end_of_day():
    p0 = billing_period(date(2026, 1, 15), 0)
    assert (p0.index, p0.start, p0.end) == (0, date(2026, 1, 15), date(2026, 2, 15))
    assert p0.start_ms == parse_instant("2026-01-15T00:00:00Z")
    assert p0.end_ms == parse_instant("2026-02-15T00:00:00Z")
    # The last instant of the period is Feb 14 23:59:59.999 UTC.
    assert ms_date(p0.end_ms - 1) == date(2026, 2, 14)
    assert len(p0.days) == 31
    assert p0.days[0] == date(2026, 1, 15) and p0.days[-1] == date(2026, 2, 14)


def test_r_period_1_period_k_starts_k_months_after_activation():
    activation = date(2026, 1, 15)
    assert starts(activation, 4) == [
        date(2026, 1, 15),
        date(2026, 2, 15),
        date(2026, 3, 15),
        date(2026, 4, 15),
    ]
    assert billing_period(activation, 12).start == date(2027, 1, 15)
    assert billing_period(activation, 11).end == date(2027, 1, 15)


def test_r_period_1_instant_belongs_to_half_open_period():
    activation = date(2026, 1, 15)
    assert period_containing(activation, parse_instant("2026-02-14T23:59:59.999Z")) == 0
    assert period_containing(activation, parse_instant("2026-02-15T00:00:00Z")) == 1
    assert period_containing(activation, parse_instant("2026-01-15T00:00:00Z")) == 0
    assert period_containing(activation, parse_instant("2026-01-14T23:59:59.999Z")) == -1
    assert period_index_on(activation, date(2026, 1, 14)) == -1


# --- R-period-2 -----------------------------------------------------------------------------------


def test_r_period_2_jan_31_anchor_leap_year_2028():
    assert starts(date(2028, 1, 31), 6) == [
        date(2028, 1, 31),
        date(2028, 2, 29),
        date(2028, 3, 31),
        date(2028, 4, 30),
        date(2028, 5, 31),
        date(2028, 6, 30),
    ]


def test_r_period_2_jan_31_anchor_non_leap_year_2027():
    assert starts(date(2027, 1, 31), 4) == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
    ]
    # Period 1 of a Jan 31 anchor is Feb 28 .. Mar 31: 31 days, never from the previous start.
    p1 = billing_period(date(2027, 1, 31), 1)
    assert (p1.start, p1.end) == (date(2027, 2, 28), date(2027, 3, 31))


def test_r_period_2_feb_29_anchor_returns_to_29_in_the_next_leap_year():
    activation = date(2028, 2, 29)
    assert billing_period(activation, 12).start == date(2029, 2, 28)
    assert billing_period(activation, 13).start == date(2029, 3, 29)
    assert billing_period(activation, 48).start == date(2032, 2, 29)


def test_r_period_2_day_30_anchor_clamps_only_in_february():
    assert starts(date(2026, 12, 30), 4) == [
        date(2026, 12, 30),
        date(2027, 1, 30),
        date(2027, 2, 28),
        date(2027, 3, 30),
    ]


def test_r_period_2_index_on_clamped_month_end():
    activation = date(2027, 1, 31)
    assert period_index_on(activation, date(2027, 2, 27)) == 0
    assert period_index_on(activation, date(2027, 2, 28)) == 1
    assert period_index_on(activation, date(2027, 3, 30)) == 1
    assert period_index_on(activation, date(2027, 3, 31)) == 2


# --- R-period-3 -----------------------------------------------------------------------------------


def test_r_period_3_oct_21_activation_next_period_starts_nov_21():
    activation = date(2025, 10, 21)
    p0 = billing_period(activation, 0)
    assert (p0.start, p0.end) == (date(2025, 10, 21), date(2025, 11, 21))
    # On Nov 24 the bill to date covers Nov 21 00:00 .. Nov 24 00:00 of period 1.
    k = period_index_on(activation, date(2025, 11, 24))
    assert k == 1
    p1 = billing_period(activation, k)
    assert p1.start_ms == parse_instant("2025-11-21T00:00:00Z")
    assert p1.start < date(2025, 11, 24) < p1.end


# --- R-period-4 -----------------------------------------------------------------------------------


def test_r_period_4_close_due_is_day_after_end_and_issue_date_is_end_date():
    p0 = billing_period(date(2026, 1, 15), 0)
    assert p0.issue_date == date(2026, 2, 15)
    assert p0.close_due == date(2026, 2, 16)
    assert CLOSE_GRACE_MS == DAY_MS


def test_r_period_4_close_due_is_first_daily_run_at_or_after_end_plus_grace():
    p0 = billing_period(date(2026, 1, 15), 0)
    ready = p0.end_ms + CLOSE_GRACE_MS
    run_on_close_due = date_ms(p0.close_due) + RUN_OFFSET_MS
    run_before = date_ms(p0.close_due - timedelta(days=1)) + RUN_OFFSET_MS
    assert run_before < ready <= run_on_close_due


# --- R-period-5 -----------------------------------------------------------------------------------


def test_r_period_5_ramp_periods_are_those_before_ramp_periods():
    assert [is_ramp(k, 2) for k in range(4)] == [True, True, False, False]
    assert not is_ramp(0, 0)
    assert [is_ramp(k, 36) for k in (35, 36)] == [True, False]


# --- properties -----------------------------------------------------------------------------------


@settings(max_examples=300)
@given(activation=activations, k=st.integers(min_value=0, max_value=600))
def test_r_period_1_periods_tile_time(activation, k):
    period, following = billing_period(activation, k), billing_period(activation, k + 1)
    assert period.end == following.start  # no gap, no overlap
    assert period.start < period.end < following.end  # strictly increasing
    assert period.index == k
    assert 28 <= (period.end - period.start).days <= 31
    assert period.end_ms - period.start_ms == len(period.days) * DAY_MS


@settings(max_examples=300)
@given(activation=activations, k=st.integers(min_value=0, max_value=600))
def test_r_period_2_start_day_is_activation_day_clamped(activation, k):
    start = billing_period(activation, k).start
    months = (start.year - activation.year) * 12 + start.month - activation.month
    assert months == k
    assert start.day == min(activation.day, calendar.monthrange(start.year, start.month)[1])
    assert add_months(activation, k) == start


@settings(max_examples=300)
@given(activation=activations, offset=st.integers(min_value=-40, max_value=600 * 31))
def test_r_period_1_period_index_on_agrees_with_billing_period(activation, offset):
    day = activation + timedelta(days=offset)
    k = period_index_on(activation, day)
    if offset < 0:
        assert k == -1
        return
    period = billing_period(activation, k)
    assert period.start <= day < period.end
    assert period_containing(activation, date_ms(day) + DAY_MS - 1) == k


def test_r_ingest_4_closed_periods_touched_by_a_late_row():
    from cxbill.domain.instants import parse_instant
    from cxbill.domain.periods import closed_periods_touched
    from cxbill.domain.usage import OPEN_END

    activation = date(2026, 1, 15)
    at = parse_instant
    # a session inside period 1; one spanning periods 0 and 1; one before activation
    assert list(
        closed_periods_touched(
            activation, 2, at("2026-02-20T00:00:00Z"), at("2026-02-20T01:00:00Z")
        )
    ) == [1]
    assert list(
        closed_periods_touched(
            activation, 2, at("2026-02-14T23:00:00Z"), at("2026-02-15T01:00:00Z")
        )
    ) == [0, 1]
    assert (
        list(
            closed_periods_touched(
                activation, 2, at("2025-12-01T00:00:00Z"), at("2025-12-02T00:00:00Z")
            )
        )
        == []
    )
    # an assignment still open touches every closed period, and nothing beyond
    assert list(closed_periods_touched(activation, 3, at("2026-01-01T00:00:00Z"), OPEN_END)) == [
        0,
        1,
        2,
    ]
    assert list(closed_periods_touched(activation, 0, at("2026-01-01T00:00:00Z"), OPEN_END)) == []
