"""Money: rounding and formatting (R-money-1, R-money-3, R-contract-2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbill.adapters.people import format_money, format_quantity, format_rate, format_tax_rate
from cxbill.domain.money import (
    CURRENCIES,
    MINOR_UNITS,
    line_amount,
    minor_unit,
    round_money,
)

D = Decimal


def test_r_contract_2_accepted_currencies_and_minor_units():
    assert sorted(CURRENCIES) == ["AUD", "BRL", "CAD", "EUR", "GBP", "JPY", "NZD", "USD"]
    assert {c: MINOR_UNITS[c] for c in CURRENCIES} == {
        **{c: 2 for c in CURRENCIES},
        "JPY": 0,
    }
    assert minor_unit("JPY") == D("1")
    assert minor_unit("USD") == D("0.01")


@pytest.mark.parametrize(
    ("amount", "currency", "rounded"),
    [
        ("2.5", "JPY", "3"),
        ("-2.5", "JPY", "-3"),
        ("1.4999", "JPY", "1"),
        ("-1.4999", "JPY", "-1"),
        ("0.005", "USD", "0.01"),
        ("-0.005", "USD", "-0.01"),
        ("0.0049", "USD", "0.00"),
        ("-0.125", "EUR", "-0.13"),
        ("1234.565", "GBP", "1234.57"),
        ("11000.5", "JPY", "11001"),
    ],
)
def test_r_money_1_round_half_away_from_zero(amount, currency, rounded):
    result = round_money(D(amount), currency)
    assert result == D(rounded)
    assert str(result) == rounded  # exactly the currency's minor units


def test_r_money_1_line_amount_is_quantity_times_rate_rounded():
    assert line_amount(D(3), D("0.5"), "JPY") == D("2")  # 1.5 -> 2
    assert line_amount(D(1), D("11000.5"), "JPY") == D("11001")
    assert line_amount(D("12.50"), D("1.10"), "USD") == D("13.75")
    assert line_amount(D("0.75"), D("1.95"), "USD") == D("1.46")  # 1.4625
    assert line_amount(D(3), D("0.0050"), "EUR") == D("0.02")  # 0.015 -> 0.02
    assert line_amount(D(-3), D("0.0050"), "EUR") == D("-0.02")


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("1234567.5", "JPY", "¥1,234,568"),
        ("0", "JPY", "¥0"),
        ("1234.565", "EUR", "€1,234.57"),
        ("1234.5", "USD", "$1,234.50"),
        ("-1234.5", "USD", "-$1,234.50"),
        ("1000000", "USD", "$1,000,000.00"),
        ("0.1", "GBP", "£0.10"),
    ],
)
def test_r_money_3_format_money_symbol_grouping_minor_units(amount, currency, text):
    assert format_money(D(amount), currency) == text


def test_r_money_3_format_rate_is_never_rounded():
    assert format_rate(D("11000.5"), "JPY") == "¥11,000.5"
    assert format_rate(D("0.0125"), "USD") == "$0.0125"
    assert format_rate(D("95.00"), "USD") == "$95.00"


def test_r_money_3_quantities_keep_their_places_and_tax_rates_show_as_percent():
    assert format_quantity(D("1234.5")) == "1,234.5"
    assert format_quantity(D("216.80")) == "216.80"
    assert format_quantity(D("-1")) == "-1"
    assert format_tax_rate(D("0.0625")) == "6.25%"
    assert format_tax_rate(D("0.1")) == "10%"


amounts = st.decimals(
    min_value=D("-1000000000"), max_value=D("1000000000"), places=6, allow_nan=False
)


@settings(max_examples=300)
@given(amount=amounts, currency=st.sampled_from(sorted(CURRENCIES)))
def test_r_money_1_rounding_never_loses_more_than_half_a_minor_unit(amount, currency):
    rounded = round_money(amount, currency)
    unit = minor_unit(currency)
    assert abs(rounded - amount) <= unit / 2
    assert rounded.as_tuple().exponent == -MINOR_UNITS[currency]
    # Half away from zero: symmetric for negatives, and exact halves move away from zero.
    assert round_money(-amount, currency) == -rounded
    if abs(rounded - amount) == unit / 2:
        assert abs(rounded) > abs(amount)
