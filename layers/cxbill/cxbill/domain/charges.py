"""Non-license charges of a period: resources, devices, numbers and calls (SPEC 5.6).

Pure: rows in, invoice lines and warnings out. Each kind of usage is read once, keeping only
per-product totals (and the set of device ids / numbers seen), so memory does not grow with the
number of rows. These charges bill in ramp as after it (R-sub-1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .contract import Contract
from .instants import date_ms
from .invoice import DEVICE_CHARGES, RESOURCE_CHARGES, TELCO_CHARGES, Draft, InvoiceLine, span
from .money import round_money
from .periods import BillingPeriod
from .usage import Call, Device, PhoneNumber, ResourceUse

RESOURCE_NAMES = {
    "ivr_minutes": "IVR minutes",
    "storage_gb": "Data storage (GB)",
    "sms_messages": "SMS messages",
    "api_requests": "API requests",
    "byoc_minutes": "BYOC minutes",
}
PEAK_RESOURCES = frozenset({"storage_gb"})  # billed at the largest daily value, not the sum
DEVICE_NAMES = {
    "physical_edge": "Physical Edge",
    "virtual_edge": "Virtual Edge",
    "phone": "Phone",
}
NUMBER_NAMES = {
    "did_monthly": "Local Number – Prepay",
    "did_setup": "Local Number – Setup",
    "toll_free_monthly": "Toll-Free Number",
    "toll_free_setup": "Toll-Free Number – Setup",
}
CALL_SERVICES = {
    "outbound": "Outbound Calling Service",
    "extended_outbound": "Extended Outbound Calling Service",
    "inbound": "Inbound Calling Service",
}
OUTBOUND_SERVICES = frozenset({"outbound", "extended_outbound"})
SHORT_CALL_S = 6  # R-call-3
SURCHARGE = "short_call_surcharge"
MINUTE_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class PeriodCharges:
    lines: tuple[InvoiceLine, ...]
    warnings: tuple[str, ...]


def _bill(
    draft: Draft, period: BillingPeriod, section, product, description, quantity, rate, price_key
) -> None:
    """A line for the whole period; quantity 0 gives none (R-sub-6), a missing price a warning
    naming the contract key to set (R-price-1)."""
    if quantity and rate is None:
        draft.warnings.append(f"{quantity} {product} not billed: the contract has no {price_key}")
        return
    draft.add(section, product, description, span(period), quantity, rate)


def rate_charges(
    contract: Contract, period: BillingPeriod, usage: Mapping[str, Iterable]
) -> PeriodCharges:
    """The charge lines of `period` (or of a period cut at an as-of date: everything is measured
    over [period.start, period.end)) from its usage, by kind: each kind's rule in CHARGE_RULES."""
    draft = Draft()
    for kind, rule in CHARGE_RULES.items():
        rule(draft, contract, period, usage.get(kind, ()))
    return PeriodCharges(tuple(draft.lines), tuple(draft.warnings))


# -- R-res-1 ---------------------------------------------------------------------------------------


def resource_quantities(
    rows: Iterable[ResourceUse], start_ms: int, end_ms: int
) -> dict[str, Decimal]:
    """Per resource, the period quantity: the sum of the dates in P (storage_gb: the largest)."""
    totals: dict[str, Decimal] = {}
    for row in rows:
        if not start_ms <= row.day_ms < end_ms:
            continue
        before = totals.get(row.resource, Decimal(0))
        if row.resource in PEAK_RESOURCES:
            totals[row.resource] = max(before, row.quantity)
        else:
            totals[row.resource] = before + row.quantity
    return totals


def add_resources(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[ResourceUse]
) -> None:
    totals = resource_quantities(rows, period.start_ms, period.end_ms)
    for resource in _ordered(totals, RESOURCE_NAMES):
        terms = contract.resources.get(resource, {})
        included = terms.get("included", Decimal(0))
        billed = max(Decimal(0), totals[resource] - included)
        name = RESOURCE_NAMES.get(resource, resource)
        if included:
            name = f"{name} ({included:f} included)"
        rate = terms.get("rate")
        price_key = f"resources.{resource}.rate"
        _bill(draft, period, RESOURCE_CHARGES, resource, name, billed, rate, price_key)


# -- R-dev-1 ---------------------------------------------------------------------------------------


def held(start: int, end: int, p_start: int, p_end: int) -> bool:
    """Held at some instant of P: half-open overlap; a zero-length row is held at no instant."""
    return start < end and start < p_end and end > p_start


def device_types(rows: Iterable[Device], start_ms: int, end_ms: int) -> dict[str, str]:
    """Each device id active in [start_ms, end_ms), typed by its latest row active there (a
    device re-registered as another type bills once, as what it became)."""
    latest: dict[str, tuple[int, str]] = {}
    for row in rows:
        if held(row.active_from_ms, row.active_to_ms, start_ms, end_ms):
            mark = (row.active_from_ms, row.type)
            latest[row.device_id] = max(latest.get(row.device_id, mark), mark)
    return {device_id: kind for device_id, (_, kind) in latest.items()}


def add_devices(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[Device]
) -> None:
    """One monthly unit per device id active in P, under the type of its latest row in P."""
    counts = _count(device_types(rows, period.start_ms, period.end_ms).values())
    for kind in _ordered(counts, DEVICE_NAMES):
        price = contract.devices.get(kind, {}).get("monthly")
        name = DEVICE_NAMES.get(kind, kind)
        price_key = f"devices.{kind}.monthly"
        _bill(draft, period, DEVICE_CHARGES, kind, name, counts[kind], price, price_key)


# -- R-num-1 ---------------------------------------------------------------------------------------


def add_numbers(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[PhoneNumber]
) -> None:
    """One monthly unit per number held in P; one setup unit per acquisition in P."""
    p_start, p_end = period.start_ms, period.end_ms
    first_setup = max(p_start, date_ms(contract.activation_date))
    latest: dict[str, tuple[int, str]] = {}
    setups: dict[str, int] = {}
    for row in rows:
        if not held(row.acquired_ms, row.released_ms, p_start, p_end):
            continue
        mark = (row.acquired_ms, row.type)
        latest[row.number] = max(latest.get(row.number, mark), mark)
        if first_setup <= row.acquired_ms < p_end:
            setups[row.type] = setups.get(row.type, 0) + 1
    monthly = _count(kind for _, kind in latest.values())
    for kind in _ordered(monthly, ("did", "toll_free")):
        _bill_number(draft, contract, period, kind, "monthly", monthly[kind])
    for kind in _ordered(setups, ("did", "toll_free")):
        _bill_number(draft, contract, period, kind, "setup", setups[kind])


def _bill_number(
    draft: Draft, contract: Contract, period: BillingPeriod, kind: str, fee: str, units: int
) -> None:
    product = f"{kind}_{fee}"
    price = contract.numbers.get(kind, {}).get(fee)
    name = NUMBER_NAMES.get(product, product)
    _bill(draft, period, TELCO_CHARGES, product, name, units, price, f"numbers.{kind}.{fee}")


# -- R-call-2, R-call-3 ----------------------------------------------------------------------------


@dataclass
class _CallTotal:
    seconds: int = 0
    cost: Decimal = Decimal(0)


def call_product(call: Call) -> str:
    """R-invoice-5: `<service>_us` or `<service>_intl`."""
    return f"{call.service}_{'us' if call.country == 'US' else 'intl'}"


def is_short_call(call: Call) -> bool:
    """R-call-3: an outbound call of exactly 6 adjusted seconds at a non-zero rate."""
    return (
        call.service in OUTBOUND_SERVICES
        and call.adjusted_duration_s == SHORT_CALL_S
        and call.rate_per_minute != 0
    )


def call_minutes(seconds: int) -> Decimal:
    return (Decimal(seconds) / 60).quantize(MINUTE_PLACES, rounding=ROUND_HALF_UP)


def add_calls(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[Call]
) -> None:
    p_start, p_end = period.start_ms, period.end_ms
    totals: dict[str, _CallTotal] = {}
    short = 0
    for call in rows:
        if not p_start <= call.started_ms < p_end:
            continue
        total = totals.setdefault(call_product(call), _CallTotal())
        total.seconds += call.adjusted_duration_s
        total.cost += call.cost
        short += is_short_call(call)
    products = [f"{s}_{r}" for s in CALL_SERVICES for r in ("us", "intl")]
    for product in _ordered(totals, products):
        _bill_calls(draft, contract, period, product, totals[product])
    rate = contract.telco.get(SURCHARGE)
    name = "Short Duration Call Surcharge"
    _bill(draft, period, TELCO_CHARGES, SURCHARGE, name, short, rate, f"telco.{SURCHARGE}")


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


# -- helpers ---------------------------------------------------------------------------------------


def _count(kinds: Iterable[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for kind in kinds:
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def _ordered(found: dict, known: Iterable[str]) -> list[str]:
    """The keys of `found` in the order of `known`, then any others sorted."""
    first = [k for k in known if k in found]
    return first + sorted(k for k in found if k not in first)


# How each usage kind that bills a charge becomes lines: a new billed kind adds its rule here.
ChargeRule = Callable[[Draft, Contract, BillingPeriod, Iterable], None]
CHARGE_RULES: dict[str, ChargeRule] = {
    "resources": add_resources,  # R-res-1
    "devices": add_devices,  # R-dev-1
    "numbers": add_numbers,  # R-num-1
    "calls": add_calls,  # R-call-2, R-call-3
}
