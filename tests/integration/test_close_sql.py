"""The close in SQL (issue 8 item 4) gives exactly what the Python reference gives.

On random batch sets (repeated identities, so "latest upload wins" matters), written as the
store writes them (Parquet through the spool):
- adapters/period_sql.SqlSessions answers every BillableSessions question as SessionRows does
  over the latest rows: users, users per day, covered milliseconds per user and per day, the
  30-minute sustained peaks per tier threshold and per day (exact to the millisecond: instants
  sit on a minute grid with millisecond offsets, so windows of exactly 30 minutes happen);
- adapters/period_sql.tally groups calls as CALL_TALLY.of_rows does;
- a whole close rated from the store's SQL equals one rated from rows (rate_period on a
  store that answers in SQL vs the same data answered in Python).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columnar import write_files  # the same batch files as the store's tests

from cxbill.adapters import columnar, period_sql
from cxbill.domain.coverage import SUSTAIN_MS
from cxbill.domain.instants import DAY_MS
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import Call, Session
from cxbill.domain.usage_kinds.calls import CALL_TALLY

D0 = 1_772_323_200_000  # 2026-03-01T00:00:00Z
MIN = 60_000
USERS = ["u1", "u2", "u3", "u4", "u5"]
SLOW = [HealthCheck.too_slow]


def batch_files(kind: str, batches: Sequence[list], into: str) -> list[columnar.BatchFile]:
    paths = write_files(kind, batches, into)
    return [columnar.BatchFile(n, path, True) for n, path in enumerate(paths)]


# Sessions on a minute grid over three days (some crossing midnight, some exactly 30 minutes,
# some of length 0), a few with millisecond offsets; ids repeat across batches.
starts = st.tuples(st.integers(-120, 3 * 1440 + 60), st.sampled_from([0, 0, 0, 1, 59_999]))
lengths = st.sampled_from([0, 0, 1, 29, 30, 30, 31, 45, 60, 90, 600, 1500, 3000])


ONE_EMAIL = st.just("x@y")


@st.composite
def session(draw, emails=ONE_EMAIL) -> Session:
    (minute, ms), length = draw(starts), draw(lengths)
    login = D0 + minute * MIN + ms
    logout = login + length * MIN + draw(st.sampled_from([0, 0, 0, 1, -1])) * (length > 0)
    return Session(
        draw(st.sampled_from([f"s{n}" for n in range(12)])),
        draw(st.sampled_from(USERS)),
        draw(emails),
        draw(st.sampled_from(["web", "web", "desktop", "mobile", "api", "teams"])),
        login,
        logout,
    )


session_batches = st.lists(st.lists(session(), max_size=14), min_size=1, max_size=3)
ranges = st.sampled_from([(0, 1), (0, 2), (1, 3), (0, 3)]).map(
    lambda r: (D0 + r[0] * DAY_MS, D0 + r[1] * DAY_MS)
)
levels_st = st.fixed_dictionaries({u: st.integers(0, 2) for u in USERS})


@settings(max_examples=60, deadline=None, suppress_health_check=SLOW)
@given(batches=session_batches, period=ranges, levels=levels_st)
def test_sql_sessions_answer_as_the_python_reference(batches, period, levels):
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("logins", batches, scratch)
        reference = SessionRows.of(columnar.latest("logins", files), *period)
        with period_sql.SqlSessions(files, *period) as sql:
            assert sql.users() == reference.users()
            assert sql.daily_users() == reference.daily_users()
            assert sql.covered_ms() == reference.covered_ms()
            assert sql.daily_covered_ms() == reference.daily_covered_ms()
            assert sql.sustained_peaks(levels, [2, 1, 0]) == reference.sustained_peaks(
                levels, [2, 1, 0]
            )
            assert sql.daily_sustained_peaks() == reference.daily_sustained_peaks()
    finally:
        shutil.rmtree(scratch)


@settings(max_examples=30, deadline=None, suppress_health_check=SLOW)
@given(
    batches=session_batches,
    lo=st.integers(-90, 200).map(lambda m: D0 + m * MIN + 7),
    minutes=st.integers(0, 300),
)
def test_sql_sessions_of_a_range_not_on_midnights(batches, lo, minutes):
    """A bill to date or a short range: users, coverage and peaks (the daily answers need whole
    days), including ranges shorter than one 30-minute window."""
    hi = lo + minutes * MIN + 3
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("logins", batches, scratch)
        reference = SessionRows.of(columnar.latest("logins", files), lo, hi)
        levels = dict.fromkeys(USERS, 0)
        with period_sql.SqlSessions(files, lo, hi) as sql:
            assert sql.users() == reference.users()
            assert sql.daily_users() == reference.daily_users()
            assert sql.covered_ms() == reference.covered_ms()
            assert sql.sustained_peaks(levels, [0]) == reference.sustained_peaks(levels, [0])
    finally:
        shutil.rmtree(scratch)


def test_a_level_held_exactly_30_minutes_counts_and_one_ms_less_does_not():
    scratch = tempfile.mkdtemp()
    try:
        for length, peak in ((SUSTAIN_MS, 2), (SUSTAIN_MS - 1, 1)):
            rows = [
                Session("a", "u1", "", "web", D0, D0 + DAY_MS),
                Session("b", "u2", "", "web", D0 + 5 * MIN, D0 + 5 * MIN + length),
                Session("c", "u2", "", "web", D0 + 5 * MIN, D0 + 6 * MIN),  # inside u2's own
            ]
            files = batch_files("logins", [rows], scratch)
            with period_sql.SqlSessions(files, D0, D0 + DAY_MS) as sql:
                assert sql.sustained_peaks(dict.fromkeys(["u1", "u2"], 0), [0]) == [peak]
                assert sql.daily_sustained_peaks() == [peak]
    finally:
        shutil.rmtree(scratch)


def test_a_short_high_level_next_to_a_low_bucket_is_no_peak():
    """Level 3 for 20 minutes ending where the next 30-minute bucket drops, level 2 held exactly
    30 minutes elsewhere: the peak is 2 (the run of levels >= 2 ends in the next bucket)."""
    h = 60 * MIN
    rows = [
        Session("a", "u1", "", "web", D0, D0 + h),
        Session("b", "u2", "", "web", D0 + 40 * MIN, D0 + 65 * MIN),
        Session("c", "u3", "", "web", D0 + 40 * MIN, D0 + h),
        Session("d", "u4", "", "web", D0 + 5 * h, D0 + 5 * h + SUSTAIN_MS),
        Session("e", "u5", "", "web", D0 + 5 * h, D0 + 5 * h + SUSTAIN_MS),
    ]
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("logins", [rows], scratch)
        reference = SessionRows.of(rows, D0, D0 + DAY_MS)
        with period_sql.SqlSessions(files, D0, D0 + DAY_MS) as sql:
            levels = dict.fromkeys(USERS, 0)
            assert sql.sustained_peaks(levels, [0]) == reference.sustained_peaks(levels, [0]) == [2]
            assert sql.daily_sustained_peaks() == reference.daily_sustained_peaks() == [2]
    finally:
        shutil.rmtree(scratch)


@pytest.mark.parametrize("mask_days", [period_sql.MASK_DAYS, 0])  # 0: a range of many days
def test_zero_length_and_boundary_sessions_as_the_reference(mask_days, monkeypatch):
    monkeypatch.setattr(period_sql, "MASK_DAYS", mask_days)
    scratch = tempfile.mkdtemp()
    try:
        end = D0 + DAY_MS
        rows = [
            Session("a", "u1", "", "web", D0, D0),  # its instant is in P: billable
            Session("b", "u2", "", "web", end, end),  # at P's end: not
            Session("c", "u3", "", "web", D0 - MIN, D0),  # ends as P starts: not
            Session("d", "u4", "", "web", end - 1, end + MIN),  # its last millisecond: is
            Session("e", "u5", "", "api", D0, end),  # not a billable client
            Session("f", "u1", "", "web", end - MIN, end + DAY_MS),  # into the next day
        ]
        files = batch_files("logins", [rows], scratch)
        for hi, users, daily in (
            (end, {"u1", "u4"}, [2]),
            (end + 2 * DAY_MS, {"u1", "u2", "u4"}, [2, 3, 0]),
        ):
            reference = SessionRows.of(rows, D0, hi)
            with period_sql.SqlSessions(files, D0, hi) as sql:
                assert sql.users() == reference.users() == users
                assert sql.daily_users() == reference.daily_users() == daily
    finally:
        shutil.rmtree(scratch)


def test_no_sessions():
    with period_sql.SqlSessions([], D0, D0 + DAY_MS) as sql:
        assert sql.users() == set()
        assert sql.daily_users() == [0]
        assert sql.covered_ms() == {}
        assert sql.sustained_peaks({}, [2, 1, 0]) == [0, 0, 0]
        assert sql.daily_sustained_peaks() == [0]


# --- calls ----------------------------------------------------------------------------------


@st.composite
def call(draw) -> Call:
    adjusted = draw(st.sampled_from([0, 6, 6, 12, 60, 61]))
    return Call(
        draw(st.sampled_from([f"c{n}" for n in range(10)])),
        D0 + draw(st.integers(-3, 5)) * DAY_MS // 2 + draw(st.sampled_from([0, -1, 1])),
        "outbound",
        "+15550001",
        "+15550002",
        adjusted,
        draw(st.sampled_from(["US", "GB", "us"])),
        draw(st.sampled_from(["inbound", "outbound", "extended_outbound"])),
        Decimal(draw(st.sampled_from(["0.0100", "0", "0.00", "0E-7", "1E-7", "0.123456"]))),
        adjusted,
        Decimal(draw(st.integers(0, 10**12))).scaleb(-4),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=SLOW)
@given(batches=st.lists(st.lists(call(), max_size=12), min_size=1, max_size=3))
def test_sql_tally_of_calls_equals_the_python_tally(batches):
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("calls", batches, scratch)
        start, end = D0, D0 + DAY_MS
        expected = CALL_TALLY.of_rows(columnar.latest("calls", files), start, end)
        got = period_sql.tally("calls", files, start, end)
        assert Counter(got) == Counter(expected)
        for tally in got:
            assert [type(v) for v in tally.sums] == [int, Decimal]
    finally:
        shutil.rmtree(scratch)
