"""Usage reports (SPEC 7): exact CSV text for small inputs, the formula-injection rule, and
R-report-1 (no cost columns for partner orgs)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal

import pytest

from cxbill.domain.charges import rate_charges
from cxbill.domain.instants import parse_instant
from cxbill.domain.invoice import Draft, add_license_usage
from cxbill.domain.rating import rate_licenses
from cxbill.domain.reports import (
    REPORT_DEFINITIONS,
    REPORTS,
    billable_usage,
    concurrent_usage,
    concurrent_usage_rows,
    day_windows,
    e164,
    header,
    logged_in,
    periods_overlapping,
    range_ms,
    resources_usage,
    text,
    user_hours,
    user_hours_rows,
    voice_usage,
)
from cxbill.domain.sessions import SessionRows
from cxbill.domain.usage import OPEN_END, Assignment, Call, Device, ResourceUse, Session

D = Decimal
ACTIVATION = date(2026, 1, 15)  # periods [01-15, 02-15), [02-15, 03-15), ...
PRICES = {  # the base contract's license and add-on prices
    "CX1": {"prepay": "75.00", "overage": "90.00"},
    "CX2": {"prepay": "95.00", "overage": "115.00"},
    "CX3": {"prepay": "135.00", "overage": "160.00"},
    "DIGITAL": {"overage": "20.00"},
    "WEM": {"overage": "30.00"},
}
# Every device type priced: the contract bills (and billable_usage lists) only priced ones.
DEVICE_PRICES = {
    "physical_edge": {"monthly": "250.00"},
    "virtual_edge": {"monthly": "100.00"},
    "phone": {"monthly": "4.00"},
}


def ms(text: str) -> int:
    """'2026-02-01T09:00' or '2026-02-01T09:00:00.250' (UTC) as epoch ms."""
    return parse_instant(text + (":00Z" if len(text) == 16 else "Z"))


def session(
    user: str, login: str, logout: str, client: str = "web", email: str | None = None
) -> Session:
    email = f"{user}@x.com" if email is None else email
    return Session(f"{user}-{login}-{client}", user, email, client, ms(login), ms(logout))


def assign(user: str, product: str, start: str = "2026-01-01T00:00", end: str | None = None):
    return Assignment(
        user, f"{user}@x.com", product, ms(start), OPEN_END if end is None else ms(end)
    )


def device(device_id: str, kind: str, start: str, end: str | None = None) -> Device:
    return Device(device_id, kind, ms(start), OPEN_END if end is None else ms(end))


def lines(*rows: str) -> str:
    return "".join(row + "\n" for row in rows)


def day(text: str) -> date:
    return date.fromisoformat(text)


# -- cells: spreadsheet formula injection ----------------------------------------------------------


@pytest.mark.parametrize("value", ["=cmd", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_free_text_starting_a_formula_gets_a_quote(value):
    assert text(value) == "'" + value


@pytest.mark.parametrize("value", ["", "alice@x.com", "a=b", "u-1", "Cloud CX 1 User"])
def test_other_free_text_is_written_as_it_is(value):
    assert text(value) == value


def test_e164_numbers_are_typed_and_untouched_but_other_text_in_their_place_is_not():
    assert e164("+15550100") == "+15550100"
    assert e164("+442071838750") == "+442071838750"
    assert e164("+1 555 0100") == "'+1 555 0100"
    assert e164("=HYPERLINK(1)") == "'=HYPERLINK(1)"


def test_cells_are_rfc_4180_and_read_back_as_written():
    sessions = [
        session("\ru", "2026-02-01T09:00", "2026-02-01T09:01", email='=1,"2"'),
        session("v\nw", "2026-02-01T09:00", "2026-02-01T09:02", email='"=1",2'),
    ]
    out = user_hours(day("2026-02-01"), day("2026-02-01"), sessions)
    assert out == (
        "date,user_id,email,logged_in\n"
        '2026-02-01,"\'\ru","\'=1,""2""",00:01:00:000\n'
        '2026-02-01,"v\nw","""=1"",2",00:02:00:000\n'  # a leading quote is no formula
    )
    assert list(csv.reader(io.StringIO(out, newline=""))) == [
        ["date", "user_id", "email", "logged_in"],
        ["2026-02-01", "'\ru", '\'=1,"2"', "00:01:00:000"],
        ["2026-02-01", "v\nw", '"=1",2', "00:02:00:000"],
    ]


@pytest.mark.parametrize(
    ("millis", "shown"),
    [
        (0, "00:00:00:000"),
        (1, "00:00:00:001"),
        (3_723_004, "01:02:03:004"),
        (86_400_000, "24:00:00:000"),
    ],
)
def test_logged_in_is_hh_mm_ss_mmm(millis, shown):
    assert logged_in(millis) == shown


# -- billable_usage --------------------------------------------------------------------------------


def test_r_report_2_billable_usage_per_period_license_add_on_and_device_rows(make_contract):
    """Range 02-01..02-20 touches P0 [01-15, 02-15) and P1 [02-15, 03-15): windows
    [02-01, 02-15) and [02-15, 02-21). Tiers and device types are the whole period's; the
    timestamps are the first billable instant inside the window; rows sort by charge name,
    entity, timestamp (R-report-3)."""
    sessions = [
        session("u1", "2026-02-01T09:00", "2026-02-01T10:00"),
        session("u1", "2026-02-14T23:00", "2026-02-15T01:00", "desktop"),  # bills in P0 and P1
        session("u2", "2026-01-20T08:00", "2026-01-20T09:00"),  # before the range, in P0
        session("u2", "2026-02-10T08:00", "2026-02-10T09:00", "mobile"),
        session("u3", "2026-02-05T08:00", "2026-02-05T09:00", "api"),  # not billable
        session("u4", "2026-02-16T12:00:00.250", "2026-02-16T13:00"),  # no license: default CX1
        session("u5", "2026-02-17T08:00", "2026-02-17T09:00"),
        session("u6", "2026-02-19T08:00", "2026-02-19T09:00", email="=cmd"),
        session("u7", "2026-02-21T08:00", "2026-02-21T09:00"),  # after the range
    ]
    assignments = [
        assign("u1", "CX1"),
        assign("u1", "CX2", "2026-02-20T00:00"),  # R-tier-1: P1's tier, even after the range
        assign("u2", "CX1"),
        assign("u2", "DIGITAL"),
        assign("u5", "CX3"),
        assign("u5", "WEM"),  # R-named-3: no add-on on CX3
        assign("u6", "CX1"),
        assign("u7", "CX1"),
    ]
    devices = [
        device("edge-1", "physical_edge", "2026-01-01T00:00"),
        device("ph-0", "phone", "2026-02-03T00:00", "2026-02-03T00:00"),  # zero-length: never
        device("=evil", "phone", "2026-02-18T10:00"),
        device("late", "virtual_edge", "2026-02-25T00:00"),  # after the range
    ]

    out = billable_usage(
        make_contract(devices=DEVICE_PRICES),
        day("2026-02-01"),
        day("2026-02-20"),
        sessions,
        assignments,
        devices,
    )

    assert out == lines(
        "charge_name,entity,timestamp",
        "Cloud CX 1 User,u1@x.com,2026-02-01T09:00:00Z",
        "Cloud CX 1 User,u2@x.com,2026-02-10T08:00:00Z",  # its 01-20 login is before the window
        "Digital Add-on,u2@x.com,2026-02-10T08:00:00Z",
        "Physical Edge,edge-1,2026-02-01T00:00:00Z",  # active since 01-01: the window's start
        "Cloud CX 1 User,'=cmd,2026-02-19T08:00:00Z",
        "Cloud CX 1 User,u4@x.com,2026-02-16T12:00:00.250Z",
        "Cloud CX 2 User,u1@x.com,2026-02-15T00:00:00Z",  # a session across the period start
        "Cloud CX 3 User,u5@x.com,2026-02-17T08:00:00Z",
        "Phone,'=evil,2026-02-18T10:00:00Z",
        "Physical Edge,edge-1,2026-02-15T00:00:00Z",
    )


def test_r_report_2_device_timestamp_is_its_first_active_instant_in_the_window(make_contract):
    """A device with several rows is one; its timestamp is max(active_from, window start) over
    its rows active in the window, and its type is that of its latest row in the period."""
    devices = [
        device("edge-1", "virtual_edge", "2026-01-20T00:00", "2026-01-25T00:00"),  # before window
        device("edge-1", "physical_edge", "2026-02-03T06:00", "2026-02-04T00:00"),
        device("edge-1", "physical_edge", "2026-02-08T00:00"),
        device("edge-2", "virtual_edge", "2026-01-16T00:00", "2026-02-02T12:00"),
    ]
    contract = make_contract(devices=DEVICE_PRICES)
    out = billable_usage(contract, day("2026-02-01"), day("2026-02-10"), [], [], devices)
    assert out == lines(
        "charge_name,entity,timestamp",
        "Physical Edge,edge-1,2026-02-03T06:00:00Z",
        "Virtual Edge,edge-2,2026-02-01T00:00:00Z",
    )


def test_r_report_2_a_range_equal_to_the_period_starts_at_the_first_login(make_contract):
    sessions = [
        session("u1", "2026-01-14T22:00", "2026-01-15T01:00"),  # begun before the period
        session("u2", "2026-01-20T08:00", "2026-01-20T09:00"),
        session("u2", "2026-02-10T08:00", "2026-02-10T09:00"),
    ]
    out = billable_usage(
        make_contract(), day("2026-01-15"), day("2026-02-14"), sessions, [assign("u2", "CX2")]
    )
    assert out == lines(
        "charge_name,entity,timestamp",
        "Cloud CX 1 User,u1@x.com,2026-01-15T00:00:00Z",
        "Cloud CX 2 User,u2@x.com,2026-01-20T08:00:00Z",
    )


def test_r_report_3_billable_usage_sorted_by_charge_name_then_entity(make_contract):
    sessions = [
        session("zed", "2026-02-01T08:00", "2026-02-01T09:00"),
        session("amy", "2026-02-01T10:00", "2026-02-01T11:00"),
    ]
    assignments = [assign("zed", "WEM"), assign("amy", "WEM"), assign("zed", "DIGITAL")]
    devices = [
        device("b", "phone", "2026-02-01T00:00"),
        device("a", "virtual_edge", "2026-02-01T00:00"),
    ]
    out = billable_usage(
        make_contract(devices=DEVICE_PRICES),
        day("2026-02-01"),
        day("2026-02-01"),
        sessions,
        assignments,
        devices,
    )
    assert out == lines(
        "charge_name,entity,timestamp",
        "Cloud CX 1 User,amy@x.com,2026-02-01T10:00:00Z",
        "Cloud CX 1 User,zed@x.com,2026-02-01T08:00:00Z",
        "Digital Add-on,zed@x.com,2026-02-01T08:00:00Z",
        "Phone,b,2026-02-01T00:00:00Z",
        "Virtual Edge,a,2026-02-01T00:00:00Z",
        "WEM Add-on,amy@x.com,2026-02-01T10:00:00Z",
        "WEM Add-on,zed@x.com,2026-02-01T08:00:00Z",
    )


def test_r_report_2_a_device_of_a_type_without_a_price_is_not_listed(make_contract):
    """R-price-1: a device type the contract does not price is not billed, so billable_usage
    lists only the priced devices (the spec contract prices physical_edge alone)."""
    devices = [
        device("edge-1", "physical_edge", "2026-02-01T00:00"),
        device("ph-1", "phone", "2026-02-01T00:00"),
        device("vedge-1", "virtual_edge", "2026-02-02T00:00"),
    ]
    contract = make_contract(devices={"physical_edge": {"monthly": "250.00"}})
    out = billable_usage(contract, day("2026-02-01"), day("2026-02-10"), [], [], devices)
    assert out == lines("charge_name,entity,timestamp", "Physical Edge,edge-1,2026-02-01T00:00:00Z")
    assert billable_usage(
        make_contract(), day("2026-02-01"), day("2026-02-10"), [], [], devices
    ) == (lines("charge_name,entity,timestamp"))


def test_r_report_2_a_device_is_priced_by_its_type_in_the_period(make_contract):
    """A device re-registered as another type bills as what it became in the period (R-dev-1):
    listed when that type is priced, left out when it is not, whatever its earlier rows were."""
    devices = [
        device("a", "phone", "2026-02-01T00:00", "2026-02-05T00:00"),
        device("a", "physical_edge", "2026-02-05T00:00"),  # became a priced type
        device("b", "physical_edge", "2026-02-01T00:00", "2026-02-05T00:00"),
        device("b", "phone", "2026-02-05T00:00"),  # became an unpriced type
    ]
    contract = make_contract(devices={"physical_edge": {"monthly": "250.00"}})
    out = billable_usage(contract, day("2026-02-01"), day("2026-02-10"), [], [], devices)
    assert out == lines("charge_name,entity,timestamp", "Physical Edge,a,2026-02-01T00:00:00Z")


def test_r_report_2_an_add_on_without_a_price_is_not_listed(make_contract):
    """R-named-3 with R-price-1: an add-on the contract does not price bills no unit, so it has
    no row; the user's license row stays."""
    prices = {k: v for k, v in PRICES.items() if k != "WEM"}
    sessions = [session("u1", "2026-02-01T08:00", "2026-02-01T09:00")]
    assignments = [assign("u1", "CX1"), assign("u1", "DIGITAL"), assign("u1", "WEM")]
    out = billable_usage(
        make_contract(prices=prices), day("2026-02-01"), day("2026-02-01"), sessions, assignments
    )
    assert out == lines(
        "charge_name,entity,timestamp",
        "Cloud CX 1 User,u1@x.com,2026-02-01T08:00:00Z",
        "Digital Add-on,u1@x.com,2026-02-01T08:00:00Z",
    )


def test_r_report_2_a_period_lists_exactly_the_device_and_add_on_units_its_invoice_bills(
    make_contract,
):
    """A range equal to a period lists what its invoice counts: as many device rows per type,
    and add-on rows per add-on, as the invoice's quantities of those lines."""
    contract = make_contract(
        prices={k: v for k, v in PRICES.items() if k != "WEM"},
        devices={"physical_edge": {"monthly": "250.00"}, "phone": {"monthly": "4.00"}},
    )
    period = periods_overlapping(ACTIVATION, day("2026-02-15"), day("2026-02-15"))[0]
    sessions = [
        session("u1", "2026-02-16T08:00", "2026-02-16T09:00"),
        session("u2", "2026-02-17T08:00", "2026-02-17T09:00"),
    ]
    assignments = [
        assign("u1", "CX1"),
        assign("u1", "DIGITAL"),
        assign("u1", "WEM"),
        assign("u2", "CX2"),
        assign("u2", "WEM"),
    ]
    devices = [
        device("e1", "physical_edge", "2026-02-20T00:00"),
        device("p1", "phone", "2026-02-01T00:00", "2026-02-16T00:00"),
        device("p2", "phone", "2026-03-01T00:00"),
        device("v1", "virtual_edge", "2026-02-20T00:00"),  # unpriced: a warning, no line
    ]
    first, last = period.start, period.end - timedelta(days=1)
    out = billable_usage(contract, first, last, sessions, assignments, devices)
    listed = Counter(name for name, _, _ in list(csv.reader(io.StringIO(out)))[1:])

    draft = Draft()
    add_license_usage(
        draft, contract, period, rate_licenses(contract, period, sessions, assignments)
    )
    charged = (*draft.lines, *rate_charges(contract, period, {"devices": devices}).lines)
    billed = {line.description: int(line.quantity) for line in charged}
    assert billed == {
        "Cloud CX 1 User": 1,
        "Cloud CX 2 User": 1,
        "Digital Add-on": 1,
        "Physical Edge": 1,
        "Phone": 2,
    }
    assert listed == billed


@pytest.mark.parametrize(
    ("model", "name"),
    [("concurrent", "Cloud CX 2 Concurrent User"), ("hourly", "Cloud CX 2 User Hours")],
)
def test_billable_usage_names_the_license_line_of_the_model(make_contract, model, name):
    out = billable_usage(
        make_contract(license_model=model, default_tier="CX2"),
        day("2026-02-01"),
        day("2026-02-01"),
        [session("u1", "2026-02-01T09:00", "2026-02-01T10:00")],
        [],
    )
    assert out == lines("charge_name,entity,timestamp", f"{name},u1@x.com,2026-02-01T09:00:00Z")


def test_billable_usage_before_activation_is_only_a_header(make_contract):
    sessions = [session("u1", "2026-01-10T09:00", "2026-01-10T10:00")]
    out = billable_usage(make_contract(), day("2026-01-01"), day("2026-01-14"), sessions, [])
    assert out == "charge_name,entity,timestamp\n"
    assert periods_overlapping(ACTIVATION, day("2026-01-01"), day("2026-01-14")) == []
    assert [
        p.index for p in periods_overlapping(ACTIVATION, day("2026-01-01"), day("2026-03-15"))
    ] == [
        0,
        1,
        2,
    ]


# -- concurrent_usage ------------------------------------------------------------------------------


def test_concurrent_usage_per_day_with_zeros_on_days_without_usage():
    # 02-01 is R-conc-4: 10 users 09:00-17:00, 3 more 09:00-09:20, 2 of them again 10:00-11:00.
    sessions = [session(f"a{i}", "2026-02-01T09:00", "2026-02-01T17:00") for i in range(10)]
    sessions += [session(f"b{i}", "2026-02-01T09:00", "2026-02-01T09:20") for i in range(3)]
    sessions += [session(f"b{i}", "2026-02-01T10:00", "2026-02-01T11:00") for i in range(2)]
    sessions += [
        session("a0", "2026-02-01T09:00", "2026-02-01T09:30", "desktop"),  # a0 counts once
        session("x", "2026-02-01T09:00", "2026-02-01T17:00", "teams"),  # not billable
        # 02-03: one user from 23:49:59.700 on, into 02-04 (outside the range): 10.005 minutes
        session("c", "2026-02-03T23:49:59.700", "2026-02-04T01:00"),
    ]

    out = concurrent_usage(day("2026-02-01"), day("2026-02-03"), sessions)

    assert out == lines(
        "date,peak_concurrent_users,minutes_at_peak,sustained_peak",
        "2026-02-01,13,20.00,12",
        "2026-02-02,0,0.00,0",
        "2026-02-03,1,10.01,0",  # half-up to 2 decimals
    )


def test_concurrent_usage_minutes_at_peak_add_up_over_the_day():
    sessions = [
        session("u1", "2026-02-01T08:00", "2026-02-01T08:10"),
        session("u1", "2026-02-01T12:00", "2026-02-01T12:45"),
    ]
    out = concurrent_usage(day("2026-02-01"), day("2026-02-01"), sessions)
    assert out == lines(
        "date,peak_concurrent_users,minutes_at_peak,sustained_peak", "2026-02-01,1,55.00,1"
    )


def test_daily_reports_built_window_by_window_equal_the_whole_range():
    sessions = [
        session("u1", "2026-02-01T20:00", "2026-02-03T04:00"),
        session("u2", "2026-02-02T23:00", "2026-02-03T00:30"),
    ]
    first, last = day("2026-02-01"), day("2026-02-04")
    windows = day_windows(first, last, days=1)
    assert len(windows) == 4
    for rows in (concurrent_usage_rows, user_hours_rows):
        whole = list(rows(first, last, SessionRows.of(sessions, *range_ms(first, last))))
        by_window = [rows(*w, SessionRows.of(sessions, *range_ms(*w))) for w in windows]
        assert [r for w in by_window for r in w] == whole


def test_day_windows_tile_the_range():
    assert day_windows(day("2026-01-01"), day("2026-03-05")) == [
        (day("2026-01-01"), day("2026-01-31")),
        (day("2026-02-01"), day("2026-03-03")),
        (day("2026-03-04"), day("2026-03-05")),
    ]


# -- resources_usage -------------------------------------------------------------------------------


def test_r_report_3_resources_alphabetical_every_day_with_zeros():
    uses = [
        ResourceUse(ms("2026-02-01T00:00"), "ivr_minutes", D("12.5")),
        ResourceUse(ms("2026-02-02T00:00"), "storage_gb", D("3.50")),
        ResourceUse(ms("2026-02-03T00:00"), "ivr_minutes", D("99")),  # after the range
    ]
    out = resources_usage(day("2026-02-01"), day("2026-02-02"), uses)
    assert out == lines(
        "date,resource,quantity",
        "2026-02-01,api_requests,0",
        "2026-02-01,byoc_minutes,0",
        "2026-02-01,ivr_minutes,12.5",
        "2026-02-01,sms_messages,0",
        "2026-02-01,storage_gb,0",
        "2026-02-02,api_requests,0",
        "2026-02-02,byoc_minutes,0",
        "2026-02-02,ivr_minutes,0",
        "2026-02-02,sms_messages,0",
        "2026-02-02,storage_gb,3.50",
    )


# -- voice_usage -----------------------------------------------------------------------------------

CALLS = [
    Call(
        "c-2",
        ms("2026-02-01T10:00:00.500"),
        "outbound",
        "+15550100",
        "+442071838750",
        61,
        "GB",
        "extended_outbound",
        D("0.0500"),
        66,
        D("0.0550"),
    ),
    Call("-1+1", ms("2026-02-01T09:00"), "inbound", "+15550199", "+18005550100", 0, "US",
         "inbound", D("0.0060"), 0, D("0.0000")),
    Call("c-3", ms("2026-02-02T00:00"), "outbound", "+15550100", "+15550101", 3, "US",
         "outbound", D("0.0100"), 6, D("0.0010")),  # after the range
]  # fmt: skip


def test_voice_usage_lists_calls_started_in_the_range_in_order():
    out = voice_usage(day("2026-02-01"), day("2026-02-01"), CALLS)
    assert out == lines(
        "call_id,started_at,direction,origin,destination,country,service,duration_s,"
        "adjusted_duration_s,rate_per_minute,cost",
        "'-1+1,2026-02-01T09:00:00Z,inbound,+15550199,+18005550100,US,inbound,0,0,0.0060,0.0000",
        "c-2,2026-02-01T10:00:00.500Z,outbound,+15550100,+442071838750,GB,extended_outbound,"
        "61,66,0.0500,0.0550",
    )


def test_r_report_1_partner_voice_usage_has_no_cost_columns():
    out = voice_usage(day("2026-02-01"), day("2026-02-01"), CALLS, with_cost=False)
    assert out == lines(
        "call_id,started_at,direction,origin,destination,country,service,duration_s,"
        "adjusted_duration_s",
        "'-1+1,2026-02-01T09:00:00Z,inbound,+15550199,+18005550100,US,inbound,0,0",
        "c-2,2026-02-01T10:00:00.500Z,outbound,+15550100,+442071838750,GB,extended_outbound,61,66",
    )
    assert "0.0550" not in out and "rate_per_minute" not in out


# -- user_hours ------------------------------------------------------------------------------------


def test_user_hours_one_row_per_user_and_day_with_billable_time():
    sessions = [
        session("a", "2026-02-01T22:00", "2026-02-02T02:00:00.500"),
        session("a", "2026-02-01T23:00", "2026-02-01T23:30", "desktop"),  # overlaps: counted once
        session("a", "2026-02-02T05:00", "2026-02-02T06:00", "teams"),  # not billable
        session("b", "2026-02-02T00:00", "2026-02-03T00:00", "mobile"),  # the whole day
        session("c", "2026-02-01T12:00", "2026-02-01T12:00"),  # zero-length: no time
        session("@d", "2026-02-02T23:59:59.999", "2026-02-03T08:00"),
    ]
    out = user_hours(day("2026-02-01"), day("2026-02-03"), sessions)
    assert out == lines(
        "date,user_id,email,logged_in",
        "2026-02-01,a,a@x.com,02:00:00:000",
        "2026-02-02,'@d,'@d@x.com,00:00:00:001",
        "2026-02-02,a,a@x.com,02:00:00:500",
        "2026-02-02,b,b@x.com,24:00:00:000",
        "2026-02-03,'@d,'@d@x.com,08:00:00:000",
    )


def test_user_hours_falls_back_to_the_user_id_without_an_email():
    sessions = [session("u1", "2026-02-01T09:00", "2026-02-01T09:30", email="")]
    out = user_hours(day("2026-02-01"), day("2026-02-02"), sessions)
    assert out == lines("date,user_id,email,logged_in", "2026-02-01,u1,u1,00:30:00:000")


# -- the registry: what each report reads and how its range is cut -------------------------------


def test_spec_7_every_report_is_defined_once_with_its_columns_and_reads():
    assert REPORTS == (
        "billable_usage",
        "concurrent_usage",
        "resources_usage",
        "voice_usage",
        "user_hours",
    )
    reads = {name: r.reads for name, r in REPORT_DEFINITIONS.items()}
    assert reads["billable_usage"] == ("logins", "licenses", "devices")
    assert reads["voice_usage"] == ("calls",)
    assert header("voice_usage", with_cost=False)[-2:] == ("duration_s", "adjusted_duration_s")


def test_spec_11_billable_usage_is_cut_by_billing_period_the_others_by_31_days(make_contract):
    contract = make_contract(activation_date="2026-01-15")
    first, last = date(2026, 1, 20), date(2026, 4, 2)
    by_period = list(REPORT_DEFINITIONS["billable_usage"].windows(contract, first, last))
    assert [(w.period.start, w.period.end) for w in by_period] == [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 2, 15), date(2026, 3, 15)),
        (date(2026, 3, 15), date(2026, 4, 15)),
    ]
    assert {(w.first, w.last) for w in by_period} == {(first, last)}  # rows kept to the range
    by_days = list(REPORT_DEFINITIONS["user_hours"].windows(contract, first, last))
    assert [(w.first, w.last) for w in by_days] == [
        (date(2026, 1, 20), date(2026, 2, 19)),
        (date(2026, 2, 20), date(2026, 3, 22)),
        (date(2026, 3, 23), date(2026, 4, 2)),
    ]
    assert by_days[0].start_ms == parse_instant("2026-01-20T00:00:00Z")
    assert by_days[-1].end_ms == parse_instant("2026-04-03T00:00:00Z")


def test_r_report_1_a_partner_orgs_windows_carry_no_cost(make_contract):
    partner = make_contract(partner="Reseller Ltd")
    windows = REPORT_DEFINITIONS["voice_usage"].windows(partner, date(2026, 2, 1), date(2026, 2, 2))
    assert [w.with_cost for w in windows] == [False]
