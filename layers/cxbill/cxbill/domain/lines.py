"""Invoice lines: the sections they are filed under, a line, and the draft that gathers them
(R-invoice-4, R-sub-6). Everything that bills writes lines here; invoice assembly adds them up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from .instants import date_ms, format_instant
from .periods import BillingPeriod

# R-invoice-4: the sections a line is filed under, in the order they are listed.
CORE_SERVICES = "Core services and fees"
RESOURCE_CHARGES = "Resource charges"
DEVICE_CHARGES = "Device charges"
TELCO_CHARGES = "Telco usage charges"
SECTIONS = (CORE_SERVICES, RESOURCE_CHARGES, DEVICE_CHARGES, TELCO_CHARGES)


@dataclass(frozen=True)
class InvoiceLine:
    section: str
    product: str
    description: str
    service_start: date
    service_end: date  # exclusive
    quantity: Decimal
    rate: Decimal | None
    amount: Decimal | None = None

    def as_json(self, with_cost: bool = True) -> dict:
        line: dict[str, str | None] = {
            "section": self.section,
            "product": self.product,
            "description": self.description,
            "service_start": format_instant(date_ms(self.service_start)),
            "service_end": format_instant(date_ms(self.service_end)),
            "quantity": str(self.quantity),
        }
        if with_cost:
            line["rate"] = None if self.rate is None else str(self.rate)
            line["amount"] = str(self.amount)
        return line


@dataclass
class Draft:
    """The lines and warnings gathered so far for one invoice (or one part of it)."""

    lines: list[InvoiceLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, section, product, description, service: tuple[date, date], quantity, rate):
        if quantity:  # R-sub-6: a line with quantity 0 is left out
            self.lines.append(
                InvoiceLine(section, product, description, *service, Decimal(quantity), rate)
            )


def span(period: BillingPeriod) -> tuple[date, date]:
    """A period as a service period: [start, end)."""
    return period.start, period.end
