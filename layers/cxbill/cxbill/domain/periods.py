"""Billing periods anchored to the activation date (R-period-1..5)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from .instants import DAY_MS, date_ms, ms_date

CLOSE_GRACE_MS = DAY_MS  # R-period-4: a day's data is complete one day after it ends


def add_months(anchor: date, months: int) -> date:
    """The date `months` calendar months after anchor, its day clamped to the month (R-period-2)."""
    year, month0 = divmod(anchor.month - 1 + months, 12)
    year += anchor.year
    day = min(anchor.day, calendar.monthrange(year, month0 + 1)[1])
    return date(year, month0 + 1, day)


@dataclass(frozen=True)
class BillingPeriod:
    """Period `index` of an org: [start, end) at 00:00 UTC of its dates (R-period-1)."""

    index: int
    start: date
    end: date  # exclusive

    @property
    def start_ms(self) -> int:
        return date_ms(self.start)

    @property
    def end_ms(self) -> int:
        return date_ms(self.end)

    @property
    def issue_date(self) -> date:
        """R-period-4: a close invoice is dated the day the period ends."""
        return self.end

    @property
    def close_due(self) -> date:
        """The first daily run at or after end + 24h closes it: the run on the day after the end."""
        return self.end + timedelta(days=1)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days)]


# -- dates as people read them (R-invoice-7): the one formatter the invoice and its PDF share ---

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def people_date(day: date) -> str:
    """A date as people read it, "Mar 10, 2026", in English whatever the process locale."""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def people_period(start: date, end: date) -> str:
    """A [start, end) span with its last day inclusive: "Mar 10, 2026 – Apr 9, 2026".
    A span of one day (or none) shows that day alone."""
    last = max(end - timedelta(days=1), start)
    if last == start:
        return people_date(start)
    return f"{people_date(start)} \u2013 {people_date(last)}"


def billing_period(activation: date, index: int) -> BillingPeriod:
    return BillingPeriod(index, add_months(activation, index), add_months(activation, index + 1))


def period_index_on(activation: date, day: date) -> int:
    """The index of the period containing `day` (-1 before activation)."""
    if day < activation:
        return -1
    k = (day.year - activation.year) * 12 + day.month - activation.month
    # The estimate is off by at most one either way because of day clamping.
    while add_months(activation, k) > day:
        k -= 1
    while add_months(activation, k + 1) <= day:
        k += 1
    return k


def period_containing(activation: date, instant_ms: int) -> int:
    """The index of the period containing an instant (-1 before activation)."""
    return period_index_on(activation, ms_date(instant_ms))


def is_ramp(index: int, ramp_periods: int) -> bool:
    """R-period-5: the term starts at period `ramp_periods`."""
    return index < ramp_periods


def closed_periods_touched(activation: date, closed: int, start_ms: int, end_ms: int) -> range:
    """The closed periods (< `closed`) a row spanning [start_ms, end_ms) falls in (R-ingest-4);
    an open-ended assignment is cut at the end of the last closed period."""
    if closed <= 0:
        return range(0)
    closed_end = date_ms(add_months(activation, closed))
    last_instant = min(max(end_ms - 1, start_ms), closed_end - 1)
    first = max(period_containing(activation, start_ms), 0)
    last = period_containing(activation, last_instant)
    return range(first, last + 1)
