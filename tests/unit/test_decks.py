"""Rate decks and call pricing (4.2.6, R-deck-1, R-call-1)."""

from __future__ import annotations

import io
import json
from decimal import ROUND_HALF_UP, Decimal, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxbill.domain.decks import (
    DECK_HEADER,
    Pricer,
    RateDeck,
    RateRow,
    adjusted_duration_s,
    call_cost,
    deck_from_json,
    deck_to_json,
    read_deck,
)
from cxbill.domain.problems import Rejected
from cxbill.domain.usage import HEADERS, call_parser, read_usage

OUTBOUND = (
    "1,US,outbound,0.0100,60,60",
    "1212,US,extended_outbound,0.0200,6,6",
    "12125,US,outbound,0.0300,0,1",
    "44,GB,extended_outbound,0.0450,1,1",
)
INBOUND = (
    "1,US,inbound,0.0050,60,60",
    "44,GB,inbound,0.0100,6,6",
)


def deck_bytes(*rows: str, header: str = DECK_HEADER, newline: str = "\n") -> bytes:
    return (newline.join([header, *rows]) + newline).encode()


def deck(direction: str, *rows: str) -> RateDeck:
    return read_deck(io.BytesIO(deck_bytes(*rows)), direction)


def deck_problems(direction: str, *rows: str, header: str = DECK_HEADER) -> list[tuple]:
    with pytest.raises(Rejected) as info:
        read_deck(io.BytesIO(deck_bytes(*rows, header=header)), direction)
    return [(p.line, p.column, p.value) for p in info.value.problems]


@pytest.fixture
def pricer() -> Pricer:
    return Pricer(deck("outbound", *OUTBOUND), deck("inbound", *INBOUND))


# --- reading a deck -------------------------------------------------------------------------------


def test_4_2_6_deck_rows_parsed():
    outbound = deck("outbound", *OUTBOUND)
    assert outbound.direction == "outbound"
    assert outbound.rows[1] == RateRow("1212", "US", "extended_outbound", Decimal("0.0200"), 6, 6)
    assert str(outbound.rows[0].rate_per_minute) == "0.0100"  # digits kept as written


def test_4_2_6_deck_with_crlf_and_a_byte_order_mark_accepted():
    raw = b"\xef\xbb\xbf" + deck_bytes(*INBOUND, newline="\r\n")
    assert len(read_deck(io.BytesIO(raw), "inbound").rows) == 2


def test_4_2_6_header_only_deck_is_an_empty_deck():
    assert deck("inbound").rows == ()
    assert deck("inbound").match("+13125550100") is None


def test_r_ingest_2_deck_with_a_wrong_header_rejected_on_line_1():
    header = "prefix,country,service,rate,min_s,increment_s"
    assert deck_problems("outbound", *OUTBOUND, header=header) == [(1, None, header)]


def test_r_ingest_2_empty_deck_file_rejected():
    with pytest.raises(Rejected):
        read_deck(io.BytesIO(b""), "outbound")


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        ("+44,GB,outbound,0.01,0,1", "prefix", "+44"),
        (",GB,outbound,0.01,0,1", "prefix", ""),
        ("4 4,GB,outbound,0.01,0,1", "prefix", "4 4"),
        ("1234567890123456,GB,outbound,0.01,0,1", "prefix", "1234567890123456"),
        ("44,,outbound,0.01,0,1", "country", ""),
        ("44,GB,OUTBOUND,0.01,0,1", "service", "OUTBOUND"),
        ("44,GB,outbound,-0.01,0,1", "rate_per_minute", "-0.01"),
        ("44,GB,outbound,0.00001,0,1", "rate_per_minute", "0.00001"),
        ("44,GB,outbound,1e-2,0,1", "rate_per_minute", "1e-2"),
        ("44,GB,outbound,,0,1", "rate_per_minute", ""),
        ("44,GB,outbound,0.01,-1,1", "min_s", "-1"),
        ("44,GB,outbound,0.01,1.5,1", "min_s", "1.5"),
        ("44,GB,outbound,0.01,,1", "min_s", ""),
        ("44,GB,outbound,0.01,0,0", "increment_s", "0"),
        ("44,GB,outbound,0.01,0,", "increment_s", ""),
        ("44,GB,outbound,0.01,0,6s", "increment_s", "6s"),
        ("44,GB,outbound,0.01,0", None, None),  # five columns
    ],
)
def test_4_2_6_bad_deck_row_rejected_with_line_and_column(row, column, value):
    assert deck_problems("outbound", "1,US,outbound,0.01,0,1", row) == [(3, column, value)]


def test_4_2_6_rate_with_4_places_min_s_0_and_increment_1_accepted():
    (row,) = deck("outbound", "44,GB,outbound,0.0001,0,1").rows
    assert (row.rate_per_minute, row.min_s, row.increment_s) == (Decimal("0.0001"), 0, 1)


def test_4_2_6_duplicate_prefix_rejected_naming_the_first_line():
    found = deck_problems("outbound", "44,GB,outbound,0.01,0,1", "", "44,GB,outbound,0.02,0,1")
    assert found == [(4, "prefix", "44")]
    with pytest.raises(Rejected) as info:
        deck(
            "outbound", "44,GB,outbound,0.01,0,1", "1,US,outbound,0.01,0,1", "44,GB,outbound,1,0,1"
        )
    assert "line 2" in info.value.problems[0].message


def test_4_2_6_prefixes_differing_only_in_length_are_distinct():
    assert len(deck("outbound", "4,X,outbound,0,0,1", "44,GB,outbound,0,0,1").rows) == 2


@pytest.mark.parametrize(
    ("direction", "row", "service"),
    [
        ("outbound", "1,US,inbound,0.01,0,1", "inbound"),
        ("inbound", "1,US,outbound,0.01,0,1", "outbound"),
        ("inbound", "1,US,extended_outbound,0.01,0,1", "extended_outbound"),
    ],
)
def test_4_2_6_service_of_the_other_deck_file_rejected(direction, row, service):
    assert deck_problems(direction, row) == [(2, "service", service)]


def test_r_ingest_1_every_bad_deck_row_listed():
    found = deck_problems(
        "inbound",
        "1,US,inbound,0.01,0,1",
        "44,GB,outbound,0.01,0,1",
        "33,FR,inbound,0.01,0,0",
        "1,US,inbound,0.02,0,1",
    )
    assert found == [(3, "service", "outbound"), (4, "increment_s", "0"), (5, "prefix", "1")]


def test_read_deck_refuses_an_unknown_direction():
    with pytest.raises(ValueError):
        read_deck(io.BytesIO(deck_bytes()), "sideways")


# --- longest prefix -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "prefix"),
    [
        ("+13125550100", "1"),
        ("+12125550100", "12125"),
        ("+12120000000", "1212"),
        ("+12129999999", "1212"),
        ("+12124", "1212"),
        ("12125550100", "12125"),  # the digits alone match too
        ("+442071234567", "44"),
        ("+33123456789", None),
    ],
)
def test_r_deck_1_longest_prefix_wins(number, prefix):
    row = deck("outbound", *OUTBOUND).match(number)
    assert (row.prefix if row else None) == prefix


@given(st.text(alphabet="0123456789", min_size=1, max_size=15))
def test_r_deck_1_match_equals_the_longest_matching_prefix_by_brute_force(digits):
    outbound = deck("outbound", *OUTBOUND)
    matching = [r for r in outbound.rows if digits.startswith(r.prefix)]
    expected = max(matching, key=lambda r: len(r.prefix), default=None)
    assert outbound.match("+" + digits) == expected


def test_rate_deck_refuses_duplicate_prefixes_when_built_directly():
    row = RateRow("1", "US", "outbound", Decimal("0.01"), 0, 1)
    with pytest.raises(ValueError):
        RateDeck("outbound", (row, row))


# --- R-call-1 arithmetic --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duration", "min_s", "increment", "adjusted"),
    [
        (61, 60, 60, 120),
        (60, 60, 60, 60),
        (1, 60, 60, 60),
        (0, 60, 60, 0),  # 0 s stays 0 s even with a minimum
        (0, 0, 6, 0),
        (1, 6, 6, 6),
        (7, 6, 6, 12),
        (1, 0, 1, 1),
        (5, 30, 6, 30),  # the minimum beats the increment
        (31, 30, 6, 36),
        (61, 0, 60, 120),
    ],
)
def test_r_call_1_adjusted_duration(duration, min_s, increment, adjusted):
    assert adjusted_duration_s(duration, min_s, increment) == adjusted


@pytest.mark.parametrize(
    ("adjusted", "rate", "cost"),
    [
        (120, "0.0100", "0.0200"),
        (0, "0.0100", "0.0000"),
        (6, "0.0005", "0.0001"),  # 0.00005 exactly: half-up
        (6, "0.0004", "0.0000"),  # 0.00004
        (50, "0.0003", "0.0003"),  # 0.00025 exactly: half-up, though 50/60 does not terminate
        (20, "0.0001", "0.0000"),  # 0.0000333…
        (40, "0.0001", "0.0001"),  # 0.0000666…
        (90, "1.2345", "1.8518"),  # 1.85175: half-up
        (3600, "0", "0.0000"),
    ],
)
def test_r_call_1_cost_rounded_half_up_to_4_places(adjusted, rate, cost):
    result = call_cost(adjusted, Decimal(rate))
    assert str(result) == cost


@given(
    adjusted=st.integers(min_value=0, max_value=10**7),
    units=st.integers(min_value=0, max_value=10**8),
)
def test_r_call_1_cost_equals_a_high_precision_decimal_twin(adjusted, units):
    rate = Decimal(units).scaleb(-4)
    with localcontext() as ctx:
        ctx.prec = 60  # x / 60 ends in 3s or 6s when it does not terminate: never a false half
        expected = (Decimal(adjusted) * rate / 60).quantize(Decimal("0.0001"), ROUND_HALF_UP)
    cost = call_cost(adjusted, rate)
    assert cost == expected
    assert cost.as_tuple().exponent == -4


# --- pricing calls (R-deck-1) ---------------------------------------------------------------------


def test_r_deck_1_outbound_call_rated_by_its_destination(pricer):
    price = pricer("outbound", "+442071234567", "+12125550100", 61)
    assert price == ("US", "outbound", Decimal("0.0300"), 61, Decimal("0.0305"))


def test_r_deck_1_inbound_call_rated_by_its_origin(pricer):
    price = pricer("inbound", "+442071234567", "+12125550100", 1)
    assert price == ("GB", "inbound", Decimal("0.0100"), 6, Decimal("0.0010"))


def test_r_call_1_61_seconds_on_a_60_60_row_bills_120(pricer):
    price = pricer("outbound", "+442071234567", "+13125550100", 61)
    assert (price.adjusted_duration_s, price.cost) == (120, Decimal("0.0200"))


def test_r_call_1_zero_second_call_costs_nothing(pricer):
    price = pricer("outbound", "+442071234567", "+13125550100", 0)
    assert (price.adjusted_duration_s, str(price.cost)) == (0, "0.0000")


def test_r_deck_1_pricer_without_a_deck_for_the_direction_rejects_the_row():
    pricer = Pricer(deck("outbound", *OUTBOUND), None)
    parse = call_parser(pricer)
    rows = [
        "c1,2026-01-20T08:00:00Z,outbound,+13125550100,+442071234567,61",
        "c2,2026-01-20T09:00:00Z,inbound,+442071234567,+13125550100,61",
    ]
    raw = io.BytesIO(("\n".join([HEADERS["calls"], *rows]) + "\n").encode())
    with pytest.raises(Rejected) as info:
        read_usage("calls", raw, False, lambda row: None, parse=parse)
    assert [(p.line, p.column, p.value) for p in info.value.problems] == [
        (3, "direction", "inbound")
    ]


def test_pricer_refuses_a_deck_of_the_wrong_direction():
    with pytest.raises(ValueError):
        Pricer(deck("inbound", *INBOUND), None)


def test_r_deck_1_calls_file_priced_as_it_is_read_and_unmatched_call_rejected_with_its_line(
    pricer,
):
    rows = [
        "c1,2026-01-20T08:00:00Z,outbound,+13125550100,+12125550100,61",
        "c2,2026-01-20T09:00:00Z,outbound,+13125550100,+33123456789,61",  # no outbound prefix
        "c3,2026-01-20T10:00:00Z,inbound,+33123456789,+13125550100,61",  # no inbound prefix
        "c4,2026-01-20T11:00:00Z,inbound,+13125550100,+33123456789,61",  # origin +1 matches
    ]
    raw = io.BytesIO(("\n".join([HEADERS["calls"], *rows]) + "\n").encode())
    with pytest.raises(Rejected) as info:
        read_usage("calls", raw, False, lambda row: None, parse=call_parser(pricer))
    assert [(p.line, p.column, p.value) for p in info.value.problems] == [
        (3, "destination", "+33123456789"),
        (4, "origin", "+33123456789"),
    ]

    good = [rows[0], rows[3]]
    raw = io.BytesIO(("\n".join([HEADERS["calls"], *good]) + "\n").encode())
    calls: list = []
    read_usage("calls", raw, False, calls.append, parse=call_parser(pricer))
    assert [(c.call_id, c.service, c.adjusted_duration_s, c.cost) for c in calls] == [
        ("c1", "outbound", 61, Decimal("0.0305")),
        ("c4", "inbound", 120, Decimal("0.0100")),
    ]


# --- storage --------------------------------------------------------------------------------------


def test_deck_round_trips_through_json_exactly():
    outbound = deck("outbound", *OUTBOUND)
    stored = json.loads(json.dumps(deck_to_json(outbound)))
    assert stored["rows"][0] == ["1", "US", "outbound", "0.0100", 60, 60]
    again = deck_from_json(stored)
    assert again == outbound
    assert [str(r.rate_per_minute) for r in again.rows] == ["0.0100", "0.0200", "0.0300", "0.0450"]
    assert again.match("+12125550100") == outbound.match("+12125550100")
