"""Money: currencies and rounding (R-money-1/2). Decimal only, never float. Formatting for people
(R-money-3) is the renderer's: adapters/people.py."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# R-contract-2: the accepted currencies and their minor units.
MINOR_UNITS: dict[str, int] = {
    "AUD": 2,
    "BRL": 2,
    "CAD": 2,
    "EUR": 2,
    "GBP": 2,
    "JPY": 0,
    "NZD": 2,
    "USD": 2,
}
CURRENCIES = frozenset(MINOR_UNITS)
RATE_PLACES = 4  # R-contract-5: prices carry at most 4 decimal places


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal('0.01'), or Decimal('1') for JPY."""
    return Decimal(1).scaleb(-MINOR_UNITS[currency])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """R-money-1: half away from zero to the currency's minor units."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def line_amount(quantity: Decimal, rate: Decimal, currency: str) -> Decimal:
    return round_money(quantity * rate, currency)
