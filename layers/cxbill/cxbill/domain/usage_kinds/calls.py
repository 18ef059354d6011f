"""4.2.6 calls: call records, priced as they are read by the rate decks in force at ingestion
(R-deck-1, R-call-1), billed as minutes and cost per service and region (R-call-2) plus a
surcharge per short outbound call (R-call-3)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, NamedTuple, TypeAlias

from ..lines import TELCO_CHARGES, Draft, InvoiceLine, span
from ..money import round_money
from .charging import bill, ordered
from .fields import choice, e164, instant, required, seconds
from .kind import Cells, IngestContext, UsageKind
from .tally import Equals, NonZero, Tally, TallySpec, Value

if TYPE_CHECKING:
    from ..contract import Contract
    from ..periods import BillingPeriod

DIRECTIONS = ("inbound", "outbound")
CALL_SERVICES = {
    "outbound": "Outbound Calling Service",
    "extended_outbound": "Extended Outbound Calling Service",
    "inbound": "Inbound Calling Service",
}
OUTBOUND_SERVICES = frozenset({"outbound", "extended_outbound"})
SHORT_CALL_S = 6  # R-call-3
SURCHARGE = "short_call_surcharge"
MINUTE_PLACES = Decimal("0.01")


class Call(NamedTuple):
    """A call record, priced by its deck row when its file was ingested (R-deck-1)."""

    call_id: str
    started_ms: int
    direction: str  # inbound | outbound
    origin: str
    destination: str
    duration_s: int
    country: str
    service: str  # outbound | extended_outbound | inbound
    rate_per_minute: Decimal
    adjusted_duration_s: int
    cost: Decimal  # R-call-1: 4 decimal places

    @property
    def identity(self) -> str:
        return self.call_id

    @property
    def span(self) -> tuple[int, int]:
        return self.started_ms, self.started_ms  # billed in the period of started_at


class Price(NamedTuple):
    """What a call's deck row makes of it (R-deck-1, R-call-1)."""

    country: str
    service: str
    rate_per_minute: Decimal
    adjusted_duration_s: int
    cost: Decimal


# Prices (direction, origin, destination, duration_s); raises RowError when nothing matches.
CallPricer: TypeAlias = Callable[[str, str, str, int], Price]


def call_parser(pricer: CallPricer) -> Callable[[Cells], Call]:
    """The calls kind's parse, pricing each call as it is read with the decks in force at
    ingestion (R-deck-1)."""

    def parse_call(cells: Cells) -> Call:
        call_id, started_at, direction, origin, destination, duration_s = cells
        required("call_id", call_id)
        started = instant("started_at", started_at)
        choice("direction", direction, DIRECTIONS)
        e164("origin", origin)
        e164("destination", destination)
        duration = seconds("duration_s", duration_s)
        price = pricer(direction, origin, destination, duration)
        return Call(call_id, started, direction, origin, destination, duration, *price)

    return parse_call


# -- R-call-2, R-call-3 ----------------------------------------------------------------------------


@dataclass
class _CallTotal:
    seconds: int = 0
    cost: Decimal = Decimal(0)


# What the rules below look at in a call: the calls of a period are read as groups of these
# keys, with a count and the sums of adjusted seconds and cost (never one Python row per call).
CALL_TALLY = TallySpec(
    within="started_ms",  # R-call-2: billed in the period of started_at
    keys=(
        Value("service"),
        Equals("country", "US"),
        Equals("adjusted_duration_s", SHORT_CALL_S),
        NonZero("rate_per_minute"),
    ),
    sums=("adjusted_duration_s", "cost"),
)


def call_product(call: Call) -> str:
    """R-invoice-5: `<service>_us` or `<service>_intl`."""
    return _product(call.service, call.country == "US")


def _product(service: str, us: bool) -> str:
    return f"{service}_{'us' if us else 'intl'}"


def is_short_call(call: Call) -> bool:
    """R-call-3: an outbound call of exactly 6 adjusted seconds at a non-zero rate."""
    six, rated = call.adjusted_duration_s == SHORT_CALL_S, call.rate_per_minute != 0
    return _short(call.service, six, rated)


def _short(service: str, six_seconds: bool, rated: bool) -> bool:
    return service in OUTBOUND_SERVICES and six_seconds and rated


def call_minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / 60).quantize(MINUTE_PLACES, rounding=ROUND_HALF_UP)


def add_calls(
    draft: Draft, contract: Contract, period: BillingPeriod, tallies: Iterable[Tally]
) -> None:
    """R-call-2/3 from the period's calls as CALL_TALLY groups (started in the period)."""
    totals: dict[str, _CallTotal] = {}
    short = 0
    for (service, us, six_seconds, rated), calls, (adjusted_s, cost) in tallies:
        total = totals.setdefault(_product(service, us), _CallTotal())
        total.seconds += adjusted_s
        total.cost += cost
        if _short(service, six_seconds, rated):
            short += calls
    products = [f"{s}_{r}" for s in CALL_SERVICES for r in ("us", "intl")]
    for product in ordered(totals, products):
        _bill_calls(draft, contract, period, product, totals[product])
    rate = contract.telco.get(SURCHARGE)
    name = "Short Duration Call Surcharge"
    bill(draft, period, TELCO_CHARGES, SURCHARGE, name, short, rate, f"telco.{SURCHARGE}")


def _bill_calls(
    draft: Draft, contract: Contract, period: BillingPeriod, product: str, total: _CallTotal
) -> None:
    """R-call-2: minutes and the rounded sum of costs, rate null. A line is left out only when
    both are 0; an amount is never dropped, even with 0 minutes."""
    minutes, amount = call_minutes(total.seconds), round_money(total.cost, contract.currency)
    if not minutes and not amount:
        return
    service, region = product.rsplit("_", 1)
    where = "US" if region == "us" else "International"
    name = f"{CALL_SERVICES.get(service, service)} – {where}"
    line = InvoiceLine(TELCO_CHARGES, product, name, *span(period), minutes, None, amount)
    draft.lines.append(line)


def _priced_by_the_decks(context: IngestContext) -> Callable[[Cells], Call]:
    return call_parser(context.call_pricer())


CALLS = UsageKind(
    "calls",
    "call_id,started_at,direction,origin,destination,duration_s",
    Call,
    (
        "text",
        "instant",
        "name",
        "name",
        "name",
        "integer",
        "name",
        "name",
        "decimal",
        "integer",
        "cost",
    ),
    ("call_id",),
    None,
    parse_with=_priced_by_the_decks,  # a call is priced as it is read (R-deck-1)
    charge=add_calls,
    tally=CALL_TALLY,
)
