"""Numbers and money as people read them on an invoice (R-money-3): Babel, en_US.

Dates and periods for people are plain text the domain writes too (an adjustment names its
period, R-invoice-6), so they live in `cxbill.domain.periods` (`people_date`, `people_period`).
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache

from babel.numbers import format_currency, format_decimal, format_percent

from cxbill.domain.money import round_money

LOCALE = "en_US"


# An invoice repeats rates and quantities line after line: each distinct one is formatted once.
# Keyed by the decimal's text, not its value: 216.8 and 216.80 print differently.
_MEMO = 4096


def format_money(amount: Decimal, currency: str) -> str:
    """An amount with symbol and grouping, in the currency's minor units: "$1,234.50"."""
    return _money(str(amount), currency)


def format_rate(rate: Decimal, currency: str) -> str:
    """A rate like an amount, but never rounded (11,000.5 JPY stays ¥11,000.5)."""
    return _rate(str(rate), currency)


def format_quantity(quantity: Decimal) -> str:
    """Grouped, with exactly the quantity's own decimal places ("216.80" stays 216.80)."""
    return _quantity(str(quantity))


@lru_cache(maxsize=_MEMO)
def _money(amount: str, currency: str) -> str:
    return format_currency(round_money(Decimal(amount), currency), currency, locale=LOCALE)


@lru_cache(maxsize=_MEMO)
def _rate(rate: str, currency: str) -> str:
    return format_currency(Decimal(rate), currency, locale=LOCALE, decimal_quantization=False)


@lru_cache(maxsize=_MEMO)
def _quantity(text: str) -> str:
    quantity = Decimal(text)
    places = max(0, -int(quantity.as_tuple().exponent))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(quantity, format=pattern, locale=LOCALE, decimal_quantization=False)


def format_tax_rate(rate: Decimal) -> str:
    """A tax rate as a percentage with up to 4 decimals: 0.0625 -> "6.25%"."""
    return format_percent(rate, "#,##0.####%", locale=LOCALE, decimal_quantization=False)
