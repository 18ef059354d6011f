"""Usage reports (SPEC 7): CSV for an org and a date range, both ends included.

Pure: rows in, CSV text out. Each report is built from windows of the range (a billing period, or
a run of whole days), so a caller can load one window of usage at a time and memory stays bounded
by a window, never by the range (SPEC 11); the `*_rows` functions yield the cells of one window,
and `write_csv` / `csv_text` put a header and rows together.

Cells: free text (ids, emails, names, countries) goes through `text`, which defuses spreadsheet
formulas; typed cells (dates, instants, E.164 numbers, integers, decimals) are written as they are.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from typing import Any, TextIO

from .contract import RESOURCE_TYPES, Contract
from .instants import date_ms, format_instant
from .invoice import ADD_ON_NAMES
from .licensing import license_model
from .licensing.tiers import ADD_ONS, carries_add_ons
from .periods import BillingPeriod, billing_period, period_index_on
from .rating import overlaps, period_tiers
from .sessions import BillableSessions, Emails, SessionRows
from .usage import Assignment, Call, Device, ResourceUse, Session
from .usage_kinds.charging import held
from .usage_kinds.devices import DEVICE_NAMES, device_types

Row = tuple[str, ...]

COST_COLUMNS = ("rate_per_minute", "cost")  # R-report-1: never in a partner org's reports
WINDOW_DAYS = 31  # daily reports are built a month of usage at a time

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_E164 = re.compile(r"\+\d{8,15}")
_MINUTE_MS = 60_000
_SPECIAL = frozenset(',"\r\n')


def header(report: str, with_cost: bool = True) -> Row:
    columns = REPORT_DEFINITIONS[report].columns
    return columns if with_cost else tuple(c for c in columns if c not in COST_COLUMNS)


# -- cells -----------------------------------------------------------------------------------------


def text(value: str) -> str:
    """A free-text cell: one a spreadsheet would read as a formula gets a leading `'`."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def e164(value: str) -> str:
    """An E.164 number is typed and written as it is; anything else is free text."""
    return value if _E164.fullmatch(value) else text(value)


def decimal(value: Decimal) -> str:
    return f"{value:f}"  # never an exponent


def logged_in(ms: int) -> str:
    """`HH:MM:SS:mmm`; a whole day is 24:00:00:000."""
    seconds, millis = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}:{millis:03d}"


def _field(cell: str) -> str:
    """RFC 4180: a field holding a comma, a quote, CR or LF is quoted, its quotes doubled.
    (Python 3.11's csv.writer leaves a bare CR unquoted when lines end with LF alone.)"""
    if any(c in cell for c in _SPECIAL):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def write_csv(columns: Row, rows: Iterable[Row], out: TextIO) -> None:
    """RFC 4180 with LF line ends, header first."""
    for row in chain((columns,), rows):
        out.write(",".join(map(_field, row)) + "\n")


def csv_text(columns: Row, rows: Iterable[Row]) -> str:
    out = io.StringIO()
    write_csv(columns, rows, out)
    return out.getvalue()


# -- ranges and windows ----------------------------------------------------------------------------


def range_ms(first: date, last: date) -> tuple[int, int]:
    """[first 00:00, last + 1 day 00:00): both ends of the range included."""
    return date_ms(first), date_ms(last + timedelta(days=1))


def day_windows(first: date, last: date, days: int = WINDOW_DAYS) -> list[tuple[date, date]]:
    """The range cut into runs of at most `days` days, (first, last) of each, both included."""
    windows = []
    while first <= last:
        end = min(last, first + timedelta(days=days - 1))
        windows.append((first, end))
        first = end + timedelta(days=1)
    return windows


def periods_overlapping(activation: date, first: date, last: date) -> list[BillingPeriod]:
    """The org's billing periods holding at least one day of the range (none before activation)."""
    if last < activation:
        return []
    k0 = period_index_on(activation, max(first, activation))
    k1 = period_index_on(activation, last)
    return [billing_period(activation, k) for k in range(k0, k1 + 1)]


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# -- billable_usage --------------------------------------------------------------------------------


def billable_usage_rows(
    contract: Contract,
    period: BillingPeriod,
    first: date,
    last: date,
    sessions: Iterable[Session],
    assignments: Iterable[Assignment],
    devices: Iterable[Device],
) -> list[Row]:
    """R-report-2: what `period` bills, listed for its window (period ∩ range): each user with a
    billable login in the window at their license line, their priced add-ons (R-named-3), each
    device of a priced type active in the window. What they bill (period tier, device type) is
    decided by the whole period, as its invoice does, and what the contract leaves unpriced is
    not billed (R-price-1), so it is not listed either; the timestamp is the first billable
    instant inside the window. Rows are ordered by charge name, entity, timestamp (R-report-3)."""
    p_start, p_end = period.start_ms, period.end_ms
    r_start, r_end = range_ms(first, last)
    w_start, w_end = max(p_start, r_start), min(p_end, r_end)

    since: dict[str, int] = {}
    emails = Emails()
    for s in sessions:
        if not s.billable or not overlaps(s.login_ms, s.logout_ms, p_start, p_end):
            continue
        emails.see(s)
        if overlaps(s.login_ms, s.logout_ms, w_start, w_end):
            at = max(s.login_ms, w_start)  # a session begun before the window counts from it
            since[s.user_id] = min(since.get(s.user_id, at), at)

    tiers, add_ons = period_tiers(assignments, set(since), p_start, p_end)
    model = license_model(contract)
    priced_add_ons = {a for a in ADD_ONS if contract.price(a, "overage") is not None}
    charges: list[tuple[str, str, int]] = []
    for user, at in since.items():
        tier = tiers.get(user, contract.default_tier)  # R-tier-2
        charges.append((model.line_name(tier), emails[user], at))
        if carries_add_ons(tier):
            held_add_ons = add_ons.get(user, set()) & priced_add_ons
            charges += [(ADD_ON_NAMES[a], emails[user], at) for a in ADD_ONS if a in held_add_ons]
    charges += _device_charges(contract, devices, p_start, p_end, w_start, w_end)
    rows = [(text(name), text(entity), at) for name, entity, at in charges]
    return [(name, entity, format_instant(at)) for name, entity, at in sorted(rows)]


def _device_charges(
    contract: Contract,
    devices: Iterable[Device],
    p_start: int,
    p_end: int,
    w_start: int,
    w_end: int,
) -> list[tuple[str, str, int]]:
    """R-dev-1: one charge per device id active in the window, typed by its latest row in P, from
    max(active_from, window start) over its rows active in the window; a device whose type has
    no monthly price in the contract is not billed (R-price-1) and not listed."""
    rows = list(devices)
    types = device_types(rows, p_start, p_end)
    since: dict[str, int] = {}
    for d in rows:
        if held(d.active_from_ms, d.active_to_ms, w_start, w_end):
            at = max(d.active_from_ms, w_start)
            since[d.device_id] = min(since.get(d.device_id, at), at)
    return [
        (DEVICE_NAMES.get(types[i], types[i]), i, at)
        for i, at in since.items()
        if contract.devices.get(types[i], {}).get("monthly") is not None
    ]


def billable_usage(
    contract: Contract,
    first: date,
    last: date,
    sessions: Sequence[Session],
    assignments: Sequence[Assignment],
    devices: Sequence[Device] = (),
) -> str:
    rows: list[Row] = []
    for period in periods_overlapping(contract.activation_date, first, last):
        rows += billable_usage_rows(contract, period, first, last, sessions, assignments, devices)
    return csv_text(header("billable_usage"), rows)


# -- concurrent_usage ------------------------------------------------------------------------------


def concurrent_usage_rows(first: date, last: date, sessions: BillableSessions) -> Iterator[Row]:
    """Per UTC day of [first, last] (the range of `sessions`): the highest c(t) (R-conc-1), the
    minutes it was held, the sustained peak (R-conc-2)."""
    peaks, sustained = sessions.daily_peaks(), sessions.daily_sustained_peaks()
    for d, (peak, held_ms), sustained_peak in zip(
        _days(first, last), peaks, sustained, strict=True
    ):
        minutes = Decimal(held_ms) / _MINUTE_MS
        yield (
            d.isoformat(),
            str(peak),
            decimal(minutes.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)),
            str(sustained_peak),
        )


def concurrent_usage(first: date, last: date, sessions: Iterable[Session]) -> str:
    measured = SessionRows.of(sessions, *range_ms(first, last))
    return csv_text(header("concurrent_usage"), concurrent_usage_rows(first, last, measured))


# -- resources_usage -------------------------------------------------------------------------------


def resources_usage_rows(first: date, last: date, uses: Iterable[ResourceUse]) -> Iterator[Row]:
    """Every day of the range and every resource (4.2.3), the stored quantity or 0; within a
    day, resources in alphabetical order (R-report-3)."""
    start, end = range_ms(first, last)
    stored: dict[tuple[int, str], Decimal] = {}
    for use in uses:
        if start <= use.day_ms < end:
            stored[use.day_ms, use.resource] = use.quantity
    names = sorted({*RESOURCE_TYPES, *(r for _, r in stored)})
    for d in _days(first, last):
        for resource in names:
            quantity = stored.get((date_ms(d), resource), Decimal(0))
            yield d.isoformat(), text(resource), decimal(quantity)


def resources_usage(first: date, last: date, uses: Iterable[ResourceUse]) -> str:
    return csv_text(header("resources_usage"), resources_usage_rows(first, last, uses))


# -- voice_usage -----------------------------------------------------------------------------------


def voice_usage_rows(
    first: date, last: date, calls: Iterable[Call], with_cost: bool = True
) -> Iterator[Row]:
    """The calls started in the range, in order; no cost columns for a partner (R-report-1)."""
    start, end = range_ms(first, last)
    for c in sorted(
        (c for c in calls if start <= c.started_ms < end), key=lambda c: (c.started_ms, c.call_id)
    ):
        row: Row = (
            text(c.call_id),
            format_instant(c.started_ms),
            text(c.direction),
            e164(c.origin),
            e164(c.destination),
            text(c.country),
            text(c.service),
            str(c.duration_s),
            str(c.adjusted_duration_s),
        )
        yield (*row, decimal(c.rate_per_minute), decimal(c.cost)) if with_cost else row


def voice_usage(first: date, last: date, calls: Iterable[Call], with_cost: bool = True) -> str:
    return csv_text(
        header("voice_usage", with_cost), voice_usage_rows(first, last, calls, with_cost)
    )


# -- user_hours ------------------------------------------------------------------------------------


def user_hours_rows(first: date, last: date, sessions: BillableSessions) -> Iterator[Row]:
    """One row per user and UTC day of [first, last] (the range of `sessions`) with billable
    time: the union of their sessions that day (R-hourly-1), in order of day then user."""
    days = _days(first, last)
    for i, user, email, ms in sessions.daily_user_covered_ms():
        yield days[i].isoformat(), text(user), text(email), logged_in(ms)


def user_hours(first: date, last: date, sessions: Iterable[Session]) -> str:
    measured = SessionRows.of(sessions, *range_ms(first, last))
    return csv_text(header("user_hours"), user_hours_rows(first, last, measured))


# -- the reports -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One slice of a report's range whose usage is loaded at a time: [start_ms, end_ms) of
    the kinds the report reads. Rows are those of [first, last] (both included)."""

    contract: Contract
    first: date
    last: date
    start_ms: int
    end_ms: int
    with_cost: bool  # R-report-1: no cost column for a partner org
    period: BillingPeriod | None = None  # set when the report is built per billing period


Usage = Mapping[str, Any]  # the window's usage: rows by kind, and SESSIONS when declared
SESSIONS = "sessions"  # the key of the window's measured sessions (a BillableSessions)


@dataclass(frozen=True)
class Report:
    """A SPEC 7 report: its columns, what it reads, how its range is cut into windows, its
    rows."""

    columns: Row
    reads: tuple[str, ...]  # usage kinds, loaded as rows
    rows: Callable[[Window, Usage], Iterable[Row]]
    per_period: bool = False  # windows are billing periods (tiers and first logins are per
    # period); else runs of WINDOW_DAYS days
    sessions: bool = False  # reads the window's billable sessions measured where they are
    # stored (usage[SESSIONS], a BillableSessions: per-user answers, never a row per session)

    def windows(self, contract: Contract, first: date, last: date) -> Iterator[Window]:
        with_cost = contract.partner is None
        if self.per_period:
            for p in periods_overlapping(contract.activation_date, first, last):
                yield Window(contract, first, last, p.start_ms, p.end_ms, with_cost, p)
            return
        for w_first, w_last in day_windows(first, last):
            yield Window(contract, w_first, w_last, *range_ms(w_first, w_last), with_cost)


def _billable(w: Window, u: Usage) -> Iterable[Row]:
    assert w.period is not None
    logins, licenses, devices = u["logins"], u["licenses"], u["devices"]
    return billable_usage_rows(w.contract, w.period, w.first, w.last, logins, licenses, devices)


# Every report by its name. Adding one is its `…_rows` function above and one entry here.
REPORT_DEFINITIONS: dict[str, Report] = {
    "billable_usage": Report(
        ("charge_name", "entity", "timestamp"),
        ("logins", "licenses", "devices"),
        _billable,
        per_period=True,
    ),
    "concurrent_usage": Report(
        ("date", "peak_concurrent_users", "minutes_at_peak", "sustained_peak"),
        (),
        lambda w, u: concurrent_usage_rows(w.first, w.last, u[SESSIONS]),
        sessions=True,
    ),
    "resources_usage": Report(
        ("date", "resource", "quantity"),
        ("resources",),
        lambda w, u: resources_usage_rows(w.first, w.last, u["resources"]),
    ),
    "voice_usage": Report(
        (
            "call_id",
            "started_at",
            "direction",
            "origin",
            "destination",
            "country",
            "service",
            "duration_s",
            "adjusted_duration_s",
            "rate_per_minute",
            "cost",
        ),
        ("calls",),
        lambda w, u: voice_usage_rows(w.first, w.last, u["calls"], w.with_cost),
    ),
    "user_hours": Report(
        ("date", "user_id", "email", "logged_in"),
        (),
        lambda w, u: user_hours_rows(w.first, w.last, u[SESSIONS]),
        sessions=True,
    ),
}
REPORTS = tuple(REPORT_DEFINITIONS)
