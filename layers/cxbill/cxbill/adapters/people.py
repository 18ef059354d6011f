"""Numbers and money as people read them on an invoice (R-money-3): Babel, en_US.

Dates and periods for people are plain text the domain writes too (an adjustment names its
period, R-invoice-6), so they live in `cxbill.domain.periods` (`people_date`, `people_period`).
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal, format_percent

from cxbill.domain.money import round_money

LOCALE = "en_US"


def format_money(amount: Decimal, currency: str) -> str:
    """An amount with symbol and grouping, in the currency's minor units: "$1,234.50"."""
    return format_currency(round_money(amount, currency), currency, locale=LOCALE)


def format_rate(rate: Decimal, currency: str) -> str:
    """A rate like an amount, but never rounded (11,000.5 JPY stays ¥11,000.5)."""
    return format_currency(rate, currency, locale=LOCALE, decimal_quantization=False)


def format_quantity(quantity: Decimal) -> str:
    """Grouped, with exactly the quantity's own decimal places ("216.80" stays 216.80)."""
    places = max(0, -int(quantity.as_tuple().exponent))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    return format_decimal(quantity, format=pattern, locale=LOCALE, decimal_quantization=False)


def format_tax_rate(rate: Decimal) -> str:
    """A tax rate as a percentage with up to 4 decimals: 0.0625 -> "6.25%"."""
    return format_percent(rate, "#,##0.####%", locale=LOCALE, decimal_quantization=False)
