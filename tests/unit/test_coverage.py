"""Coverage, sustained peaks and hours (R-conc-1..4, R-hourly-1)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cxbill.domain.coverage import (
    DAY_MS,
    SUSTAIN_MS,
    covered_ms,
    daily_covered_ms,
    daily_sustained_peaks,
    hours,
    sustained_peak,
    user_coverage,
)

D0 = int(datetime(2026, 4, 6, tzinfo=UTC).timestamp() * 1000)  # 2026-04-06 00:00 UTC
D1 = D0 + DAY_MS
D2 = D1 + DAY_MS
MIN = 60_000


def at(hh: int, mm: int = 0, day: int = D0) -> int:
    return day + (hh * 60 + mm) * MIN


def peak(sessions, start=D0, end=D1):
    return sustained_peak(user_coverage(sessions, start, end), start, end)


# --- R-conc ---------------------------------------------------------------------------------------


def test_r_conc_4_worked_example():
    cx1 = [(f"cx1-{i}", at(9), at(17)) for i in range(10)]
    cx3 = [(f"cx3-{i}", at(9), at(9, 20)) for i in range(3)]
    cx3 += [(f"cx3-{i}", at(10), at(11)) for i in range(2)]
    assert peak(cx1 + cx3) == 12  # 10:00-11:00; the 13 at 09:00-09:20 lasts only 20 min
    assert peak(cx3) == 2
    assert daily_sustained_peaks(user_coverage(cx1 + cx3, D0, D1), D0, D1) == [12]


def test_r_conc_2_29_minute_level_ignored():
    base = [("a", at(8), at(12))]
    assert peak(base + [("b", at(10), at(10, 29))]) == 1
    assert peak(base + [("b", at(10), at(10, 29) + 59_999)]) == 1  # 1 ms short


def test_r_conc_2_exactly_30_minutes_counts():
    assert peak([("a", at(8), at(12)), ("b", at(10), at(10, 30))]) == 2
    assert peak([("a", at(10), at(10, 30))]) == 1


def test_r_conc_2_peak_straddling_midnight():
    sessions = [
        ("a", at(23, 45), at(0, 15, D1)),
        ("b", at(23, 45), at(0, 15, D1)),
        ("c", at(20), at(4, 0, D1)),
    ]
    cov = user_coverage(sessions, D0, D2)
    assert sustained_peak(cov, D0, D2) == 3  # 23:45-00:15 is one 30-minute window
    assert daily_sustained_peaks(cov, D0, D2) == [1, 1]  # 15 min on each side of midnight


def test_r_conc_2_window_never_leaves_range():
    # b's level-2 stretch is only 20 min inside the range, though b stays logged in after end.
    sessions = [("a", at(20), at(4, 0, D1)), ("b", at(23, 40), at(2, 0, D1))]
    assert peak(sessions) == 1
    # ...and likewise at the start of the range.
    before = D0 - DAY_MS
    assert peak([("a", at(20, 0, before), at(5)), ("b", at(22, 0, before), at(0, 20))]) == 1


def test_r_conc_2_range_shorter_than_window_is_zero():
    cov = {"a": [(D0, D1)]}
    assert sustained_peak(cov, D0, D0 + SUSTAIN_MS - 1) == 0
    assert sustained_peak(cov, D0, D0 + SUSTAIN_MS) == 1
    assert sustained_peak({}, D0, D1) == 0


def test_r_conc_1_overlapping_sessions_of_one_user_count_once():
    assert peak([("a", at(9), at(11)), ("a", at(10), at(12))]) == 1
    # Also when an un-merged list is passed straight to sustained_peak.
    assert sustained_peak([[(at(9), at(11)), (at(10), at(12))]], D0, D1) == 1


def test_r_conc_1_touching_sessions_form_one_coverage():
    cov = user_coverage([("a", at(10), at(10, 20)), ("a", at(10, 20), at(10, 40))], D0, D1)
    assert cov == {"a": [(at(10), at(10, 40))]}
    assert sustained_peak(cov, D0, D1) == 1  # 40 minutes, though each session is 20


def test_r_conc_1_zero_length_session_counts_nothing():
    cov = user_coverage([("a", at(10), at(10)), ("b", at(12), at(11))], D0, D1)
    assert cov == {}
    assert sustained_peak(cov, D0, D1) == 0
    assert peak([("a", at(9), at(12)), ("b", at(10), at(10))]) == 1


def test_r_conc_2_accepts_mapping_or_iterable():
    cov = {"a": [(at(9), at(10))], "b": [(at(9), at(10))]}
    assert sustained_peak(cov, D0, D1) == sustained_peak(iter(cov.values()), D0, D1) == 2


# --- R-hourly -------------------------------------------------------------------------------------


def test_r_hourly_1_union_of_overlapping_sessions():
    cov = user_coverage([("a", at(9), at(12)), ("a", at(11), at(13)), ("b", at(9), at(10))], D0, D1)
    assert cov == {"a": [(at(9), at(13))], "b": [(at(9), at(10))]}
    assert covered_ms(cov) == {"a": 4 * 3_600_000, "b": 3_600_000}
    assert hours(covered_ms(cov)["a"]) == Decimal("4.00")


def test_r_hourly_1_session_crossing_period_end_is_clipped():
    cov = user_coverage([("a", at(23), at(2, 0, D1)), ("b", at(22, 0, D0 - DAY_MS), at(1))], D0, D1)
    assert covered_ms(cov) == {"a": 3_600_000, "b": 3_600_000}
    assert daily_covered_ms(cov, D0, D1) == [2 * 3_600_000]


def test_r_hourly_1_daily_covered_splits_at_midnight():
    cov = user_coverage([("a", at(23), at(2, 0, D1))], D0, D2)
    assert daily_covered_ms(cov, D0, D2) == [3_600_000, 2 * 3_600_000]


def test_r_hourly_1_hours_rounding():
    assert hours(5_400_000) == Decimal("1.50")
    assert str(hours(5_400_000)) == "1.50"
    assert hours(18_000) == Decimal("0.01")  # 0.005 h rounds half up
    assert hours(17_999) == Decimal("0.00")
    assert hours(0) == Decimal("0.00")
    assert hours(3_600_000 * 1000 + 1) == Decimal("1000.00")


# --- properties -----------------------------------------------------------------------------------

RANGE_S = 3 * 3600
WINDOW_S = SUSTAIN_MS // 1000
USERS = [f"u{i}" for i in range(6)]

# Sessions in whole seconds as (login, duration), reaching a little outside the range to exercise
# clipping; a few have zero or negative duration (cover nothing).
session_s = st.tuples(st.integers(-600, RANGE_S + 600), st.integers(-60, 2 * 3600)).map(
    lambda t: (t[0], t[0] + t[1])
)
sessions_st = st.lists(
    st.tuples(st.sampled_from(USERS), st.lists(session_s, max_size=4)),
    max_size=6,
    unique_by=lambda t: t[0],
).map(lambda us: [(u, a * 1000 + D0, b * 1000 + D0) for u, ss in us for a, b in ss])


def brute_peak(sessions, start_s: int, end_s: int, window_s: int) -> int:
    """Per-second c(t): c[s] counts users covering instant s*1000 (exact, endpoints are whole
    seconds); then the max over every window of window_s consecutive seconds of its minimum.
    A window's min >= L exactly when it holds a run of window_s seconds with c >= L."""
    n = end_s - start_s
    if n < window_s:
        return 0
    marks = {u: bytearray(n) for u, _, _ in sessions}
    for u, a, b in sessions:
        lo, hi = max((a - D0) // 1000, start_s), min((b - D0) // 1000, end_s)
        if lo < hi:
            marks[u][lo - start_s : hi - start_s] = b"\x01" * (hi - lo)
    c = [sum(col) for col in zip(*marks.values(), strict=True)] if marks else [0] * n
    best, run = 0, b"\x01" * window_s
    for level in range(1, len(marks) + 1):
        if run in bytes(1 if x >= level else 0 for x in c):
            best = level
    return best


@settings(max_examples=500, deadline=None)
@given(sessions_st)
def test_r_conc_2_sustained_peak_matches_brute_force(sessions):
    end = D0 + RANGE_S * 1000
    cov = user_coverage(sessions, D0, end)
    assert sustained_peak(cov, D0, end) == brute_peak(sessions, 0, RANGE_S, WINDOW_S)


@settings(max_examples=200, deadline=None)
@given(sessions_st, st.integers(0, 3600), st.integers(600, RANGE_S))
def test_r_conc_2_sub_range_matches_brute_force(sessions, lo_s, len_s):
    # Coverage computed over a wider range, peak asked of a sub-range: windows stay inside it.
    hi_s = min(lo_s + len_s, RANGE_S)
    cov = user_coverage(sessions, D0 - DAY_MS, D0 + DAY_MS)
    got = sustained_peak(cov, D0 + lo_s * 1000, D0 + hi_s * 1000)
    assert got == brute_peak(sessions, lo_s, hi_s, WINDOW_S)


# Multi-day sessions on a minute grid over three days.
long_s = st.tuples(st.integers(-600, 3 * 1440 + 600), st.integers(0, 3000)).map(
    lambda t: (t[0] * MIN + D0, (t[0] + t[1]) * MIN + D0)
)
long_sessions_st = st.lists(st.tuples(st.sampled_from(USERS), long_s), max_size=20).map(
    lambda ss: [(u, a, b) for u, (a, b) in ss]
)


@settings(max_examples=300, deadline=None)
@given(long_sessions_st, st.sets(st.sampled_from(USERS)))
def test_r_conc_and_hourly_invariants(sessions, subset):
    end = D0 + 3 * DAY_MS
    cov = user_coverage(sessions, D0, end)
    assert sum(daily_covered_ms(cov, D0, end)) == sum(covered_ms(cov).values())
    whole = sustained_peak(cov, D0, end)
    sub = {u: iv for u, iv in cov.items() if u in subset}
    assert sustained_peak(sub, D0, end) <= whole
    daily = daily_sustained_peaks(cov, D0, end)
    assert len(daily) == 3
    assert max(daily) <= whole
    assert daily == [sustained_peak(cov, d, d + DAY_MS) for d in (D0, D1, D2)]
