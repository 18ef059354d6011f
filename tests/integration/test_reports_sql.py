"""The session reports in SQL (issue 8 item 4) give exactly what the Python reference gives.

concurrent_usage and user_hours read a window's sessions through BillableSessions: on random
batch sets (repeated identities, so "latest upload wins" matters; zero-length sessions, sessions
crossing midnight, overlapping sessions of one user, clients that are not billable, emails blank
or tied on the login instant) adapters/period_sql.SqlSessions answers the per-day peaks and the
per-(day, user) covered milliseconds with their emails as SessionRows does over the latest rows,
and so both report row functions give the same rows.
"""

from __future__ import annotations

import inspect
import shutil
import tempfile
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_close_sql import D0, MIN, SLOW, batch_files, session

from cxbill.adapters import columnar, period_sql
from cxbill.domain.instants import DAY_MS
from cxbill.domain.reports import concurrent_usage_rows, user_hours_rows
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import Session

FIRST = date(2026, 3, 1)  # D0's day

# test_close_sql's sessions, with blank, repeated and formula-like emails
emails = st.sampled_from(["", "a@x", "b@x", "=c@x"])

session_batches = st.lists(st.lists(session(emails), max_size=14), min_size=1, max_size=3)
day_ranges = st.sampled_from([(0, 1), (0, 2), (1, 3), (0, 3), (2, 2)])


@settings(max_examples=45, deadline=None, suppress_health_check=SLOW)
@given(batches=session_batches, days=day_ranges)
def test_sql_report_answers_are_the_python_reference(batches, days):
    start, end = D0 + days[0] * DAY_MS, D0 + days[1] * DAY_MS
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("logins", batches, scratch)
        reference = SessionRows.of(columnar.latest("logins", files), start, end)
        with period_sql.SqlSessions(files, start, end, emails=True) as sql:
            assert sql.daily_peaks() == reference.daily_peaks()
            assert list(sql.daily_user_covered_ms()) == list(reference.daily_user_covered_ms())
            if days[1] > days[0]:  # the rows of the reports, a range of whole days
                first = FIRST + timedelta(days=days[0])
                last = FIRST + timedelta(days=days[1] - 1)
                for rows in (concurrent_usage_rows, user_hours_rows):
                    assert list(rows(first, last, sql)) == list(rows(first, last, reference))
    finally:
        shutil.rmtree(scratch)


def test_overlapping_sessions_of_one_user_across_midnight_and_their_latest_email():
    end = D0 + 2 * DAY_MS
    rows = [
        Session("a", "u1", "old@x", "web", D0 + 23 * 60 * MIN, D0 + DAY_MS + 60 * MIN),
        Session("b", "u1", "new@x", "desktop", D0 + 23 * 60 * MIN + 30 * MIN, D0 + DAY_MS),
        Session("c", "u1", "late@x", "api", D0 + DAY_MS + 5 * MIN, D0 + DAY_MS + 6 * MIN),
        Session("d", "u2", "", "web", D0 + DAY_MS + 10 * MIN, D0 + DAY_MS + 10 * MIN),
        Session("e", "u3", "", "mobile", D0 + 10 * MIN, D0 + 40 * MIN),
        Session("f", "u2", "u2@x", "web", D0 + 20 * MIN, D0 + 30 * MIN),
    ]
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("logins", [rows], scratch)
        reference = SessionRows.of(rows, D0, end)
        expected = [
            (0, "u1", "new@x", 60 * MIN),  # "c" is not billable: "b" is u1's latest
            (0, "u2", "u2", 10 * MIN),  # its latest, zero-length "d", has no email: the id
            (0, "u3", "u3", 30 * MIN),
            (1, "u1", "new@x", 60 * MIN),
        ]
        with period_sql.SqlSessions(files, D0, end, emails=True) as sql:
            assert list(sql.daily_user_covered_ms()) == list(reference.daily_user_covered_ms())
            assert list(sql.daily_user_covered_ms()) == expected
            # day 0: level 2 from 00:20 to 00:30 (u2, u3), day 1: level 1 for an hour (u1)
            assert sql.daily_peaks() == reference.daily_peaks() == [(2, 10 * MIN), (1, 60 * MIN)]
    finally:
        shutil.rmtree(scratch)


def test_user_hours_rows_stream_from_duckdb_in_chunks(monkeypatch):
    monkeypatch.setattr(period_sql, "FETCH_ROWS", 2)
    rows = [
        Session(f"s{n}", f"u{n}", "", "web", D0 + n * MIN, D0 + 2 * DAY_MS + (n + 1) * MIN)
        for n in range(5)
    ]
    scratch = tempfile.mkdtemp()
    try:
        files = batch_files("logins", [rows], scratch)
        reference = SessionRows.of(rows, D0, D0 + 3 * DAY_MS)
        with period_sql.SqlSessions(files, D0, D0 + 3 * DAY_MS, emails=True) as sql:
            answers = sql.daily_user_covered_ms()
            assert inspect.isgenerator(answers)  # read as it comes, never a full list
            got = list(answers)
        assert got == list(reference.daily_user_covered_ms())
        assert len(got) == 15  # 5 users x 3 days
    finally:
        shutil.rmtree(scratch)


def test_no_sessions():
    with period_sql.SqlSessions([], D0, D0 + 2 * DAY_MS, emails=True) as sql:
        assert sql.daily_peaks() == [(0, 0), (0, 0)]
        assert list(sql.daily_user_covered_ms()) == []
        assert list(concurrent_usage_rows(FIRST, FIRST + timedelta(days=1), sql)) == [
            ("2026-03-01", "0", "0.00", "0"),
            ("2026-03-02", "0", "0.00", "0"),
        ]


def test_a_close_reads_no_emails_and_cannot_be_asked_for_them():
    """Who each user is costs a sort of the sessions: only the reports ask for it (emails=True)."""
    with period_sql.SqlSessions([], D0, D0 + DAY_MS) as sql:
        described = sql.con.execute("SELECT column_name FROM (DESCRIBE billable)").fetchall()
        columns = [c for (c,) in described]
        assert columns == ["user_id", "login_ms", "logout_ms"]
        with pytest.raises(ValueError, match="emails=True"):
            list(sql.daily_user_covered_ms())
