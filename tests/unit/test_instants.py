"""UTC instants as epoch milliseconds (section 4.1 timestamps; R-invoice-5 formatting)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbill.domain.instants import (
    DAY_MS,
    InvalidTimestamp,
    date_ms,
    format_instant,
    from_datetime,
    ms_date,
    parse_instant,
    to_datetime,
)

MIDNIGHT_JAN_15 = date_ms(date(2026, 1, 15))


def test_epoch_and_day_arithmetic():
    assert date_ms(date(1970, 1, 1)) == 0
    assert date_ms(date(1970, 1, 2)) == DAY_MS
    assert MIDNIGHT_JAN_15 == 1_768_435_200_000
    assert ms_date(MIDNIGHT_JAN_15) == date(2026, 1, 15)
    assert ms_date(MIDNIGHT_JAN_15 - 1) == date(2026, 1, 14)
    assert ms_date(-1) == date(1969, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-15T00:00:00Z",
        "2026-01-15T09:00:00+09:00",
        "2026-01-14T18:30:00-05:30",
        "2026-01-15T05:30:00+05:30",
        "2026-01-15T00:00:00+00:00",
        "2026-01-14T23:00:00-01:00",
    ],
)
def test_offsets_convert_to_the_same_utc_instant(text):
    assert parse_instant(text) == MIDNIGHT_JAN_15


def test_offset_crossing_a_date_and_a_year():
    assert parse_instant("2026-01-01T01:00:00+02:00") == parse_instant("2025-12-31T23:00:00Z")
    assert ms_date(parse_instant("2026-01-01T01:00:00+02:00")) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("fraction", "millis"),
    [("", 0), (".1", 100), (".12", 120), (".123", 123), (".123999", 123), (".999999999", 999)],
)
def test_fraction_kept_to_the_millisecond_digits_beyond_truncated(fraction, millis):
    assert parse_instant(f"2026-01-15T00:00:00{fraction}Z") == MIDNIGHT_JAN_15 + millis


def test_fraction_truncated_not_rounded_with_negative_offset():
    assert parse_instant("2026-01-14T19:00:00.9999-05:00") == MIDNIGHT_JAN_15 + 999


@pytest.mark.parametrize(
    "text",
    [
        "2026-01-15T00:00:00",  # no offset
        "2026-01-15T00:00:00.123",  # no offset, with a fraction
        "2026-01-15",  # a date alone
        "2026-02-30T00:00:00Z",  # no such date
        "2027-02-29T00:00:00Z",  # not a leap year
        "2026-13-01T00:00:00Z",
        "2026-01-15T24:00:00Z",
        "2026-01-15T23:60:00Z",
        "2026-01-15T23:59:60Z",
        "2026-01-15T00:00:00+24:00",
        "2026-01-15T00:00:00+05:60",
        "2026-01-15T00:00:00+0500",
        "2026-01-15T00:00:00.Z",
        "2026-01-15T00:00Z",
        " 2026-01-15T00:00:00Z",
        "",
        "yesterday",
    ],
)
def test_invalid_timestamps_rejected(text):
    with pytest.raises(InvalidTimestamp):
        parse_instant(text)


def test_leap_day_accepted():
    assert ms_date(parse_instant("2028-02-29T12:00:00Z")) == date(2028, 2, 29)


def test_format_instant_z_and_fraction_only_when_present():
    assert format_instant(MIDNIGHT_JAN_15) == "2026-01-15T00:00:00Z"
    assert format_instant(MIDNIGHT_JAN_15 + 123) == "2026-01-15T00:00:00.123Z"
    assert format_instant(MIDNIGHT_JAN_15 + 5) == "2026-01-15T00:00:00.005Z"
    assert format_instant(parse_instant("2026-01-15T09:00:00.5+09:00")) == (
        "2026-01-15T00:00:00.500Z"
    )


def test_datetime_conversions():
    dt = datetime(2026, 1, 15, 12, 34, 56, 789_999, tzinfo=UTC)
    ms = from_datetime(dt)
    assert ms == parse_instant("2026-01-15T12:34:56.789Z")
    assert to_datetime(ms) == datetime(2026, 1, 15, 12, 34, 56, 789_000, tzinfo=UTC)


@settings(max_examples=200)
@given(st.integers(min_value=date_ms(date(2000, 1, 1)), max_value=date_ms(date(2099, 12, 31))))
def test_format_then_parse_round_trips(ms):
    assert parse_instant(format_instant(ms)) == ms
