"""Resources, devices, numbers and calls: validation into normalized rows (4.2.3–4.2.6,
R-ingest-1, R-deck-1), and their round trip through the normalized store's CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from cxbill.adapters.usage_store import Spool
from cxbill.domain.contract import DEVICE_TYPES, NUMBER_TYPES, RESOURCE_TYPES
from cxbill.domain.instants import DAY_MS, date_ms, parse_instant
from cxbill.domain.problems import Rejected
from cxbill.domain.usage import (
    HEADERS,
    OPEN_END,
    PARSERS,
    USAGE_KINDS,
    Assignment,
    Call,
    Device,
    PhoneNumber,
    Price,
    ResourceUse,
    RowError,
    Session,
    call_parser,
    parse_usage_key,
    read_usage,
)

T0 = "2026-01-15T09:00:00Z"
T1 = "2026-01-15T10:00:00Z"
JAN_20 = date_ms(date(2026, 1, 20))


def body(kind: str, *rows: str, newline: str = "\n") -> bytes:
    return (newline.join([HEADERS[kind], *rows]) + newline).encode()


def read(kind: str, *rows: str, parse=None) -> list:
    found: list = []
    read_usage(kind, io.BytesIO(body(kind, *rows)), False, found.append, parse=parse)
    return found


def problems(kind: str, *rows: str, parse=None) -> list[tuple]:
    """(line, column, value) of every problem; fails if the file is accepted."""
    with pytest.raises(Rejected) as info:
        read(kind, *rows, parse=parse)
    return [(p.line, p.column, p.value) for p in info.value.problems]


# A pricer that charges 1.0000 a minute for anything but the destination +99…, which matches
# nothing: enough to test the calls file itself (decks have their own tests).
def flat_pricer(direction: str, origin: str, destination: str, duration_s: int) -> Price:
    if destination.startswith("+99"):
        raise RowError("destination", destination, f"no rate deck prefix matches {destination}")
    return Price("US", direction, Decimal("1.0000"), duration_s, Decimal(duration_s) / 60)


PARSE_CALL = call_parser(flat_pricer)


def read_calls(*rows: str) -> list:
    return read("calls", *rows, parse=PARSE_CALL)


def call_problems(*rows: str) -> list[tuple]:
    return problems("calls", *rows, parse=PARSE_CALL)


def call_row(
    call_id="c1",
    started=T0,
    direction="outbound",
    origin="+13125550100",
    destination="+442071234567",
    duration="61",
) -> str:
    return f"{call_id},{started},{direction},{origin},{destination},{duration}"


# --- kinds and headers (4.1, 4.2) ---------------------------------------------------------------


def test_4_2_every_usage_kind_has_its_exact_header():
    assert HEADERS["resources"] == "date,resource,quantity"
    assert HEADERS["devices"] == "device_id,type,active_from,active_to"
    assert HEADERS["numbers"] == "number,type,acquired_at,released_at"
    assert HEADERS["calls"] == "call_id,started_at,direction,origin,destination,duration_s"
    assert set(PARSERS) == set(HEADERS) - {"calls"}  # calls are parsed with the org's decks
    for kind in HEADERS:
        assert parse_usage_key(f"usage/acme/{kind}/a.csv").kind == kind


def test_4_1_one_definition_per_usage_kind():
    assert list(USAGE_KINDS) == ["logins", "licenses", "resources", "devices", "numbers", "calls"]
    for name, kind in USAGE_KINDS.items():
        assert kind.name == name
        assert kind.width == len(kind.row._fields) or name == "calls"  # a call adds its price
        assert HEADERS[name] == kind.header
        assert PARSERS.get(name) is kind.parse
    assert USAGE_KINDS["calls"].parse is None  # read with call_parser(pricer), R-deck-1


def test_4_2_6_calls_are_parsed_with_the_decks_the_ingest_offers():
    class Reading:
        asked = 0

        def call_pricer(self):
            self.asked += 1
            return flat_pricer

    reading = Reading()
    parse = USAGE_KINDS["calls"].parser(reading)
    call = parse(["c1", T0, "outbound", "+13125550100", "+442071234567", "61"])
    assert (reading.asked, call.cost, call.adjusted_duration_s) == (1, Decimal(61) / 60, 61)
    assert USAGE_KINDS["logins"].parser(reading) is USAGE_KINDS["logins"].parse
    assert reading.asked == 1  # a kind that needs no context never asks


def test_5_6_the_kinds_that_bill_each_carry_their_charge_rule():
    billing = [name for name, kind in USAGE_KINDS.items() if kind.charge is not None]
    assert billing == ["resources", "devices", "numbers", "calls"]  # in invoice line order


@pytest.mark.parametrize("kind", ["resources", "devices", "numbers", "calls"])
def test_r_ingest_2_wrong_header_rejected_on_line_1(kind):
    raw = io.BytesIO(f"{HEADERS[kind]},extra\n".encode())
    with pytest.raises(Rejected) as info:
        read_usage(kind, raw, False, lambda row: None, parse=PARSE_CALL)
    (problem,) = info.value.problems
    assert (problem.line, problem.value) == (1, f"{HEADERS[kind]},extra")


@pytest.mark.parametrize("kind", ["resources", "devices", "numbers", "calls"])
def test_4_1_header_only_file_accepted_with_0_rows(kind):
    summary = read_usage(kind, io.BytesIO(body(kind)), False, lambda row: None, parse=PARSE_CALL)
    assert (summary.rows, summary.first_ms) == (0, None)


def test_r_deck_1_calls_without_pricing_are_rejected_not_crashed():
    with pytest.raises(Rejected) as info:
        read_usage("calls", io.BytesIO(body("calls", call_row())), False, lambda row: None)
    assert "R-deck-1" in info.value.problems[0].message


# --- 4.2.3 resources ------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCE_TYPES)
def test_4_2_3_each_resource_accepted_on_its_utc_day(resource):
    (row,) = read("resources", f"2026-01-20,{resource},12")
    assert row == ResourceUse(JAN_20, resource, Decimal("12"))
    assert row.span == (JAN_20, JAN_20 + DAY_MS)


def test_4_2_3_quantity_keeps_its_digits_and_zero_is_allowed():
    rows = read("resources", "2026-01-20,storage_gb,3.50", "2026-01-21,ivr_minutes,0")
    assert [str(r.quantity) for r in rows] == ["3.50", "0"]


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("2026-01-20,ivr_minutes,-1", "quantity", "-1"),
        ("2026-01-20,ivr_minutes,1e3", "quantity", "1e3"),
        ("2026-01-20,ivr_minutes,1E3", "quantity", "1E3"),
        ("2026-01-20,ivr_minutes,", "quantity", ""),
        ("2026-01-20,ivr_minutes,.5", "quantity", ".5"),
        ("2026-01-20,ivr_minutes,5.", "quantity", "5."),
        ("2026-01-20,ivr_minutes,+5", "quantity", "+5"),
        ("2026-01-20,ivr_minutes, 5", "quantity", " 5"),
        ("2026-01-20,ivr_minutes,NaN", "quantity", "NaN"),
        ("2026-01-20,ivr_minutes,1,000", None, None),  # four columns
        ("2026-01-20,voice_minutes,5", "resource", "voice_minutes"),
        ("2026-01-20,,5", "resource", ""),
        ("2026-02-30,ivr_minutes,5", "date", "2026-02-30"),
        ("2026-1-20,ivr_minutes,5", "date", "2026-1-20"),
        ("20260120,ivr_minutes,5", "date", "20260120"),
        ("2026-01-20T00:00:00Z,ivr_minutes,5", "date", "2026-01-20T00:00:00Z"),
        (",ivr_minutes,5", "date", ""),
    ],
)
def test_4_2_3_bad_resource_row_rejected_with_line_and_column(row, column, value):
    assert problems("resources", "2026-01-19,ivr_minutes,1", row) == [(3, column, value)]


def test_r_ingest_1_every_bad_resource_row_listed_with_editor_line_numbers():
    found = problems(
        "resources",
        "2026-01-20,ivr_minutes,-1",
        "",  # a blank line still counts as a line
        '"2026-01-21",storage_gb,"2"',
        "2026-01-22,sms,3",
    )
    assert found == [(2, "quantity", "-1"), (5, "resource", "sms")]


def test_4_2_3_repeated_identity_passes_every_row_with_one_identity():
    rows = read("resources", "2026-01-20,ivr_minutes,5", "2026-01-20,ivr_minutes,7")
    assert [r.quantity for r in rows] == [Decimal(5), Decimal(7)]
    assert rows[0].identity == rows[1].identity == (JAN_20, "ivr_minutes")


# --- 4.2.4 devices --------------------------------------------------------------------------------


@pytest.mark.parametrize("device_type", DEVICE_TYPES)
def test_4_2_4_each_device_type_accepted_and_empty_active_to_is_open(device_type):
    (row,) = read("devices", f"e1,{device_type},{T0},")
    assert row == Device("e1", device_type, parse_instant(T0), OPEN_END)
    assert row.span == (parse_instant(T0), OPEN_END)


def test_4_2_4_closed_and_zero_length_devices_accepted():
    rows = read("devices", f"e1,phone,{T0},{T1}", f"e2,phone,{T0},{T0}")
    assert [r.span for r in rows] == [
        (parse_instant(T0), parse_instant(T1)),
        (parse_instant(T0), parse_instant(T0)),
    ]


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (f"e1,router,{T0},", "type", "router"),
        (f",phone,{T0},", "device_id", ""),
        (f"e1,phone,{T1},{T0}", "active_to", T0),
        ("e1,phone,2026-01-15T09:00:00,", "active_from", "2026-01-15T09:00:00"),
        ("e1,phone,,", "active_from", ""),
        (f"e1,phone,{T0},2026-01-16", "active_to", "2026-01-16"),
    ],
)
def test_4_2_4_bad_device_row_rejected_with_line_and_column(row, column, value):
    assert problems("devices", row) == [(2, column, value)]


def test_4_2_4_repeated_identity_lets_a_later_row_set_active_to():
    first, second = read("devices", f"e1,phone,{T0},", f"e1,phone,{T0},{T1}")
    assert first.identity == second.identity == ("e1", parse_instant(T0))
    assert second.active_to_ms == parse_instant(T1)


# --- 4.2.5 numbers --------------------------------------------------------------------------------


@pytest.mark.parametrize("number_type", NUMBER_TYPES)
def test_4_2_5_each_number_type_accepted_and_empty_released_at_is_open(number_type):
    (row,) = read("numbers", f"+13125550100,{number_type},{T0},")
    assert row == PhoneNumber("+13125550100", number_type, parse_instant(T0), OPEN_END)


@pytest.mark.parametrize("number", ["+12345678", "+123456789012345"])
def test_4_2_5_e164_holds_8_to_15_digits(number):
    (row,) = read("numbers", f"{number},did,{T0},{T1}")
    assert row.number == number


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (f"+1234567,did,{T0},", "number", "+1234567"),  # 7 digits
        (f"+1234567890123456,did,{T0},", "number", "+1234567890123456"),  # 16 digits
        (f"13125550100,did,{T0},", "number", "13125550100"),
        (f"+1 312 555 0100,did,{T0},", "number", "+1 312 555 0100"),
        (f"+1-312-555-0100,did,{T0},", "number", "+1-312-555-0100"),
        (f"+1312555010٣,did,{T0},", "number", "+1312555010٣"),  # not an ASCII digit
        (f"+13125550100,mobile,{T0},", "type", "mobile"),
        (f"+13125550100,did,{T1},{T0}", "released_at", T0),
        ("+13125550100,did,yesterday,", "acquired_at", "yesterday"),
    ],
)
def test_4_2_5_bad_number_row_rejected_with_line_and_column(row, column, value):
    assert problems("numbers", row) == [(2, column, value)]


def test_4_2_5_a_released_and_reacquired_number_is_two_identities():
    first, again = read("numbers", f"+13125550100,did,{T0},{T1}", f"+13125550100,did,{T1},")
    assert first.identity != again.identity
    assert first.identity[0] == again.identity[0] == "+13125550100"


# --- 4.2.6 calls ----------------------------------------------------------------------------------


def test_4_2_6_call_parsed_and_priced_as_it_is_read():
    (row,) = read_calls(call_row(duration="90"))
    assert row == Call(
        "c1",
        parse_instant(T0),
        "outbound",
        "+13125550100",
        "+442071234567",
        90,
        "US",
        "outbound",
        Decimal("1.0000"),
        90,
        Decimal("1.5"),
    )
    assert row.span == (parse_instant(T0), parse_instant(T0))  # billed where it started


def test_4_2_6_zero_second_call_accepted():
    (row,) = read_calls(call_row(direction="inbound", duration="0"))
    assert (row.direction, row.duration_s) == ("inbound", 0)


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (call_row(call_id=""), "call_id", ""),
        (call_row(started="2026-01-15 09:00:00Z"), "started_at", "2026-01-15 09:00:00Z"),
        (call_row(direction="internal"), "direction", "internal"),
        (call_row(direction="OUTBOUND"), "direction", "OUTBOUND"),
        (call_row(origin="13125550100"), "origin", "13125550100"),
        (call_row(origin="anonymous"), "origin", "anonymous"),
        (call_row(destination="+44"), "destination", "+44"),
        (call_row(duration="-1"), "duration_s", "-1"),
        (call_row(duration="1.5"), "duration_s", "1.5"),
        (call_row(duration="1e2"), "duration_s", "1e2"),
        (call_row(duration=""), "duration_s", ""),
        (call_row(duration="²"), "duration_s", "²"),  # str.isdigit() would say yes
        (call_row(duration="1" * 5000), "duration_s", "1" * 200),  # no int() overflow crash
    ],
)
def test_4_2_6_bad_call_row_rejected_with_line_and_column(row, column, value):
    assert call_problems(call_row(call_id="c0"), row) == [(3, column, value)]


def test_r_deck_1_call_matching_no_prefix_rejected_with_its_line():
    found = call_problems(
        call_row("c1"),
        call_row("c2", destination="+99123456789"),
        call_row("c3"),
        call_row("c4", destination="+99987654321"),
    )
    assert found == [
        (3, "destination", "+99123456789"),
        (5, "destination", "+99987654321"),
    ]


def test_4_2_6_repeated_call_id_passes_both_rows_with_one_identity():
    first, again = read_calls(call_row(duration="10"), call_row(duration="20"))
    assert first.identity == again.identity == "c1"
    assert (first.duration_s, again.duration_s) == (10, 20)


# --- the normalized store's row codec (UsageKind.to_cells / from_cells) ---------------------------

ROWS = {
    "logins": [
        Session("s,1", "u1", 'a"b@x.com', "web", parse_instant(T0), parse_instant(T1)),
        Session("s2", "u2", "", "teams", parse_instant(T0), parse_instant(T0)),
    ],
    "licenses": [
        Assignment("u1", "a@x.com", "CX2", parse_instant(T0), OPEN_END),
        Assignment("u1", "", "WEM", parse_instant(T0), parse_instant(T1)),
    ],
    "resources": [
        ResourceUse(JAN_20, "storage_gb", Decimal("3.50")),
        ResourceUse(JAN_20, "ivr_minutes", Decimal("0")),
        ResourceUse(JAN_20, "api_requests", Decimal("0.000000001")),  # str() writes 1E-9
        ResourceUse(JAN_20, "sms_messages", Decimal("120.000")),
    ],
    "devices": [
        Device("e1", "phone", parse_instant(T0), OPEN_END),
        Device('edge "A", rack 2', "physical_edge", parse_instant(T0), parse_instant(T1)),
    ],
    "numbers": [
        PhoneNumber("+13125550100", "did", parse_instant(T0), OPEN_END),
        PhoneNumber("+18005550100", "toll_free", parse_instant(T0), parse_instant(T1)),
    ],
    "calls": [
        Call(
            "c,1",
            parse_instant(T0),
            "outbound",
            "+13125550100",
            "+442071234567",
            61,
            "GB",
            "extended_outbound",
            Decimal("0.0100"),
            120,
            Decimal("0.0200"),
        ),
        Call(
            "c2",
            parse_instant(T1),
            "inbound",
            "+442071234567",
            "+13125550100",
            0,
            "US",
            "inbound",
            Decimal("0"),
            0,
            Decimal("0.0000"),
        ),
    ],
}


def same(a, b) -> bool:
    """Equal field by field, with Decimals equal in digits and exponent too."""
    return tuple(map(repr, a)) == tuple(map(repr, b)) and a == b


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_r_usage_1_each_kind_declares_its_identity_fields(kind):
    """The store resolves "latest upload wins" in SQL by these columns (adapters/columnar.py)."""
    usage_kind = USAGE_KINDS[kind]
    for row in ROWS[kind]:
        declared = tuple(getattr(row, f) for f in usage_kind.identity)
        assert row.identity == (declared[0] if len(declared) == 1 else declared)


def test_a_kind_must_name_one_column_type_per_field_and_one_way_to_parse():
    kind = USAGE_KINDS["devices"]
    with pytest.raises(TypeError, match="per field"):
        replace(kind, columns=kind.columns[:-1])
    with pytest.raises(TypeError, match="identity"):
        replace(kind, identity=("serial",))
    with pytest.raises(TypeError, match="exactly one"):
        replace(kind, parse=None)


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_store_codec_round_trips_each_kind_exactly(kind):
    usage_kind = USAGE_KINDS[kind]
    for row in ROWS[kind]:
        cells = usage_kind.to_cells(row)
        assert cells == [str(x) for x in row]  # what the Spool's csv.writer writes
        assert same(usage_kind.from_cells(cells), row)


def test_store_codec_interns_the_strings_that_repeat():
    def cells() -> list[str]:  # as csv.reader gives them: new strings for every row
        return ["s1", "".join(["u", "7"]), "".join(["a", "@x.com"]), "web", "0", "1"]

    first, again = (USAGE_KINDS["logins"].from_cells(cells()) for _ in "ab")
    assert first.user_id is again.user_id
    assert first.email is again.email


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_store_codec_round_trips_through_the_spool(kind):
    spool = Spool()
    try:
        for row in ROWS[kind]:
            spool.add(row)
        with open(spool.finish(), encoding="utf-8", newline="") as spooled:
            cells = list(csv.reader(spooled))
    finally:
        spool.close()
    decoded = [USAGE_KINDS[kind].from_cells(c) for c in cells]
    assert len(decoded) == len(ROWS[kind])
    assert all(same(d, r) for d, r in zip(decoded, ROWS[kind], strict=True))


def test_store_codec_round_trips_what_the_readers_produce():
    for kind, rows in [
        ("logins", read("logins", f"s1,u1,a@x.com,web,{T0},{T1}")),
        ("licenses", read("licenses", f"u1,a@x.com,CX1,{T0},")),
        ("resources", read("resources", "2026-01-20,storage_gb,3.50")),
        ("devices", read("devices", f"e1,phone,{T0},")),
        ("numbers", read("numbers", f"+13125550100,did,{T0},{T1}")),
        ("calls", read_calls(call_row())),
    ]:
        for row in rows:
            usage_kind = USAGE_KINDS[kind]
            assert same(usage_kind.from_cells(usage_kind.to_cells(row)), row)
