"""Non-license charges: R-res-1, R-dev-1, R-num-1, R-price-1, R-call-2..4, and R-sub-1 / R-partner-1
for these lines on a period invoice."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from cxbill.domain.charges import PeriodCharges, rate_charges
from cxbill.domain.instants import DAY_MS, date_ms, parse_instant
from cxbill.domain.invoice import bill_to_date, period_invoice
from cxbill.domain.lines import DEVICE_CHARGES, RESOURCE_CHARGES, TELCO_CHARGES
from cxbill.domain.money import round_money
from cxbill.domain.periods import billing_period
from cxbill.domain.rating import LicenseUsage
from cxbill.domain.usage import OPEN_END, Call, Device, PhoneNumber, ResourceUse

D = Decimal
ACTIVATION = date(2026, 1, 15)
P1 = billing_period(ACTIVATION, 1)  # [2026-02-15, 2026-03-15)


def at(text: str) -> int:
    return parse_instant(text)


def day(text: str) -> int:
    return date_ms(date.fromisoformat(text))


def charges(contract, period=P1, resources=(), devices=(), numbers=(), calls=()):
    usage = {"resources": resources, "devices": devices, "numbers": numbers, "calls": calls}
    return rate_charges(contract, period, usage)


def priced(contract, result, period=P1) -> list[tuple[str, str, str | None, str]]:
    """(product, quantity, rate, amount) as the period invoice's JSON record writes them."""
    invoice = period_invoice(contract, period, LicenseUsage(), advance=False, charges=result.lines)
    if invoice is None:
        return []
    record = invoice.as_json()
    return [(x["product"], x["quantity"], x["rate"], x["amount"]) for x in record["lines"]]


def cost(adjusted_s: int, rate: Decimal) -> Decimal:
    """R-call-1."""
    return (D(adjusted_s) / 60 * rate).quantize(D("0.0001"), rounding=ROUND_HALF_UP)


def call(
    call_id: str,
    started: str = "2026-02-20T10:00:00Z",
    service: str = "outbound",
    country: str = "US",
    adjusted_s: int = 60,
    rate: str = "0.0100",
    amount: str | None = None,
) -> Call:
    direction = "inbound" if service == "inbound" else "outbound"
    price = D(rate)
    return Call(
        call_id,
        at(started),
        direction,
        "+13125550100",
        "+13125550199",
        adjusted_s,
        country,
        service,
        price,
        adjusted_s,
        cost(adjusted_s, price) if amount is None else D(amount),
    )


# --- R-res-1 / R-price-1 --------------------------------------------------------------------------

RESOURCE_TERMS = {
    "ivr_minutes": {"included": "1000", "rate": "0.012"},
    "storage_gb": {"rate": "0.10"},
    "sms_messages": {"included": "100", "rate": "0.0075"},
}


def test_r_res_1_sum_of_daily_quantities_less_included(make_contract):
    contract = make_contract(resources=RESOURCE_TERMS)
    rows = [
        ResourceUse(day("2026-02-15"), "ivr_minutes", D("600")),
        ResourceUse(day("2026-03-14"), "ivr_minutes", D("700.5")),
    ]
    result = charges(contract, resources=rows)
    assert priced(contract, result) == [("ivr_minutes", "300.5", "0.012", "3.61")]
    line = result.lines[0]
    assert (line.section, line.description) == (RESOURCE_CHARGES, "IVR minutes (1000 included)")
    assert (line.service_start, line.service_end) == (P1.start, P1.end)
    assert result.warnings == ()


def test_r_res_1_storage_bills_the_largest_daily_value_not_the_sum(make_contract):
    contract = make_contract(resources=RESOURCE_TERMS)
    rows = [
        ResourceUse(day("2026-02-16"), "storage_gb", D("10")),
        ResourceUse(day("2026-02-17"), "storage_gb", D("25.5")),
        ResourceUse(day("2026-02-18"), "storage_gb", D("20")),
    ]
    result = charges(contract, resources=rows)
    assert priced(contract, result) == [("storage_gb", "25.5", "0.10", "2.55")]
    assert result.lines[0].description == "Data storage (GB)"


def test_r_res_1_usage_within_the_allocation_bills_nothing(make_contract):
    contract = make_contract(resources=RESOURCE_TERMS)
    rows = [
        ResourceUse(day("2026-02-20"), "ivr_minutes", D("999")),
        ResourceUse(day("2026-02-21"), "ivr_minutes", D("1")),
        ResourceUse(day("2026-02-20"), "sms_messages", D("40")),
    ]
    assert charges(contract, resources=rows) == PeriodCharges((), ())


def test_r_res_1_dates_outside_the_period_are_ignored(make_contract):
    contract = make_contract(resources=RESOURCE_TERMS)
    rows = [
        ResourceUse(day("2026-02-14"), "ivr_minutes", D("5000")),  # the day before P
        ResourceUse(day("2026-03-15"), "ivr_minutes", D("5000")),  # P's exclusive end
        ResourceUse(day("2026-02-14"), "storage_gb", D("900")),
        ResourceUse(day("2026-02-15"), "ivr_minutes", D("1100")),
        ResourceUse(day("2026-02-15"), "storage_gb", D("3")),
    ]
    assert priced(contract, charges(contract, resources=rows)) == [
        ("ivr_minutes", "100", "0.012", "1.20"),
        ("storage_gb", "3", "0.10", "0.30"),
    ]


def test_r_price_1_resource_without_entry_or_rate_is_reported_not_billed(make_contract):
    contract = make_contract(resources={"storage_gb": {"included": "5"}})
    rows = [
        ResourceUse(day("2026-02-20"), "api_requests", D("12000")),
        ResourceUse(day("2026-02-20"), "storage_gb", D("8")),
        ResourceUse(day("2026-02-20"), "byoc_minutes", D("0")),  # nothing to bill, no warning
    ]
    result = charges(contract, resources=rows)
    assert result.lines == ()
    assert result.warnings == (
        "3 storage_gb not billed: the contract has no resources.storage_gb.rate",
        "12000 api_requests not billed: the contract has no resources.api_requests.rate",
    )


# --- R-dev-1 --------------------------------------------------------------------------------------

DEVICE_TERMS = {"physical_edge": {"monthly": "250.00"}, "phone": {"monthly": "5.00"}}


def test_r_dev_1_a_device_active_one_second_bills_a_full_month(make_contract):
    contract = make_contract(devices=DEVICE_TERMS)
    rows = [Device("edge-1", "physical_edge", at("2026-03-14T23:59:59Z"), OPEN_END)]
    result = charges(contract, devices=rows)
    assert priced(contract, result) == [("physical_edge", "1", "250.00", "250.00")]
    assert (result.lines[0].section, result.lines[0].description) == (
        DEVICE_CHARGES,
        "Physical Edge",
    )


def test_r_dev_1_zero_length_and_touching_rows_are_not_active(make_contract):
    contract = make_contract(devices=DEVICE_TERMS)
    noon = at("2026-02-20T12:00:00Z")
    rows = [
        Device("edge-1", "physical_edge", noon, noon),  # zero-length: active at no instant
        Device("edge-2", "physical_edge", at("2026-02-01T00:00:00Z"), P1.start_ms),  # ends at ps
        Device("edge-3", "physical_edge", P1.end_ms, OPEN_END),  # starts at pe
    ]
    assert charges(contract, devices=rows) == PeriodCharges((), ())


def test_r_dev_1_active_before_the_period_and_still_active_counts(make_contract):
    contract = make_contract(devices=DEVICE_TERMS)
    rows = [
        Device("phone-1", "phone", at("2025-12-01T00:00:00Z"), OPEN_END),
        Device("phone-2", "phone", at("2025-12-01T00:00:00Z"), at("2026-02-15T00:00:01Z")),
    ]
    assert priced(contract, charges(contract, devices=rows)) == [("phone", "2", "5.00", "10.00")]


def test_r_dev_1_two_rows_of_one_device_count_once(make_contract):
    contract = make_contract(devices=DEVICE_TERMS)
    rows = [
        Device("edge-1", "physical_edge", at("2026-02-16T00:00:00Z"), at("2026-02-17T00:00:00Z")),
        Device("edge-1", "physical_edge", at("2026-03-01T00:00:00Z"), OPEN_END),
        Device("phone-1", "phone", at("2026-02-16T00:00:00Z"), OPEN_END),
    ]
    assert priced(contract, charges(contract, devices=rows)) == [
        ("physical_edge", "1", "250.00", "250.00"),
        ("phone", "1", "5.00", "5.00"),
    ]


def test_r_price_1_device_type_without_price_is_reported(make_contract):
    contract = make_contract(devices=DEVICE_TERMS)
    rows = [
        Device("v-1", "virtual_edge", at("2026-02-16T00:00:00Z"), OPEN_END),
        Device("v-2", "virtual_edge", at("2026-02-16T00:00:00Z"), OPEN_END),
    ]
    result = charges(contract, devices=rows)
    assert result.lines == ()
    assert result.warnings == (
        "2 virtual_edge not billed: the contract has no devices.virtual_edge.monthly",
    )


# --- R-num-1 --------------------------------------------------------------------------------------

NUMBER_TERMS = {
    "did": {"setup": "1.00", "monthly": "1.50"},
    "toll_free": {"setup": "2.00", "monthly": "3.00"},
}


def test_r_num_1_monthly_for_each_number_held_and_setup_for_each_acquired(make_contract):
    contract = make_contract(numbers=NUMBER_TERMS)
    rows = [
        PhoneNumber("+13125550100", "did", at("2026-02-20T09:00:00Z"), OPEN_END),
        PhoneNumber("+13125550101", "did", at("2026-01-20T09:00:00Z"), OPEN_END),
        PhoneNumber("+18005550100", "toll_free", at("2026-01-20T09:00:00Z"), OPEN_END),
        PhoneNumber("+18005550101", "toll_free", at("2026-01-20T09:00:00Z"), P1.start_ms),
    ]
    result = charges(contract, numbers=rows)
    assert priced(contract, result) == [
        ("did_monthly", "2", "1.50", "3.00"),
        ("toll_free_monthly", "1", "3.00", "3.00"),
        ("did_setup", "1", "1.00", "1.00"),
    ]
    assert [(x.section, x.description) for x in result.lines] == [
        (TELCO_CHARGES, "Local Number – Prepay"),
        (TELCO_CHARGES, "Toll-Free Number"),
        (TELCO_CHARGES, "Local Number – Setup"),
    ]


def test_r_num_1_number_acquired_before_activation_bills_no_setup(make_contract):
    contract = make_contract(numbers=NUMBER_TERMS)
    period0 = billing_period(ACTIVATION, 0)
    rows = [
        PhoneNumber("+18005550100", "toll_free", at("2026-01-10T09:00:00Z"), OPEN_END),
        PhoneNumber("+18005550101", "toll_free", date_ms(ACTIVATION), OPEN_END),
    ]
    assert priced(contract, charges(contract, period0, numbers=rows), period0) == [
        ("toll_free_monthly", "2", "3.00", "6.00"),
        ("toll_free_setup", "1", "2.00", "2.00"),
    ]


def test_r_num_1_released_and_reacquired_bills_one_month_and_two_setups(make_contract):
    contract = make_contract(numbers=NUMBER_TERMS)
    number = "+13125550100"
    rows = [
        PhoneNumber(number, "did", at("2026-02-16T00:00:00Z"), at("2026-02-20T00:00:00Z")),
        PhoneNumber(number, "did", at("2026-03-01T00:00:00Z"), OPEN_END),
    ]
    assert priced(contract, charges(contract, numbers=rows)) == [
        ("did_monthly", "1", "1.50", "1.50"),
        ("did_setup", "2", "1.00", "2.00"),
    ]


def test_r_num_1_zero_length_row_is_held_at_no_instant_and_bills_nothing(make_contract):
    contract = make_contract(numbers=NUMBER_TERMS)
    noon = at("2026-02-20T12:00:00Z")
    rows = [PhoneNumber("+13125550100", "did", noon, noon)]
    assert charges(contract, numbers=rows).lines == ()


def test_r_price_1_number_without_setup_price_still_bills_monthly(make_contract):
    contract = make_contract(numbers={"did": {"monthly": "1.50"}})
    rows = [
        PhoneNumber("+13125550100", "did", at("2026-02-20T09:00:00Z"), OPEN_END),
        PhoneNumber("+18005550100", "toll_free", at("2026-02-20T09:00:00Z"), OPEN_END),
    ]
    result = charges(contract, numbers=rows)
    assert priced(contract, result) == [("did_monthly", "1", "1.50", "1.50")]
    assert result.warnings == (
        "1 toll_free_monthly not billed: the contract has no numbers.toll_free.monthly",
        "1 did_setup not billed: the contract has no numbers.did.setup",
        "1 toll_free_setup not billed: the contract has no numbers.toll_free.setup",
    )


# --- R-call-2 -------------------------------------------------------------------------------------


def test_r_call_2_lines_per_service_split_us_and_international(make_contract):
    contract = make_contract()
    calls = [
        call("c1", service="inbound", country="GB", adjusted_s=120, rate="0.0200"),
        call("c2", service="outbound", country="US", adjusted_s=60, rate="0.0100"),
        call("c3", service="extended_outbound", country="US", adjusted_s=90, rate="0.0300"),
        call("c4", service="outbound", country="MX", adjusted_s=60, rate="0.1000"),
        call("c5", service="inbound", country="US", adjusted_s=60, rate="0.0050"),
    ]
    result = charges(contract, calls=calls)
    assert [(x.section, x.product, x.description) for x in result.lines] == [
        (TELCO_CHARGES, "outbound_us", "Outbound Calling Service – US"),
        (TELCO_CHARGES, "outbound_intl", "Outbound Calling Service – International"),
        (TELCO_CHARGES, "extended_outbound_us", "Extended Outbound Calling Service – US"),
        (TELCO_CHARGES, "inbound_us", "Inbound Calling Service – US"),
        (TELCO_CHARGES, "inbound_intl", "Inbound Calling Service – International"),
    ]
    assert priced(contract, result) == [
        ("outbound_us", "1.00", None, "0.01"),
        ("outbound_intl", "1.00", None, "0.10"),
        ("extended_outbound_us", "1.50", None, "0.05"),  # 0.0450 half-up
        ("inbound_us", "1.00", None, "0.01"),  # 0.0050 half-up
        ("inbound_intl", "2.00", None, "0.04"),
    ]


def test_r_call_2_minutes_are_adjusted_seconds_over_60_to_2_places_half_up(make_contract):
    contract = make_contract()
    calls = [
        call("c1", adjusted_s=61, rate="0"),
        call("c2", adjusted_s=30, rate="0"),  # 91 s = 1.51666… min
        call("c3", country="FR", adjusted_s=1, rate="0"),  # 0.01666… min
        call("c4", service="inbound", adjusted_s=3, rate="0"),  # 0.05 min exactly
    ]
    result = charges(contract, calls=calls)
    assert [(x.product, x.quantity, x.rate, x.amount) for x in result.lines] == [
        ("outbound_us", D("1.52"), None, D("0.00")),  # free calls keep their line (R-money-2)
        ("outbound_intl", D("0.02"), None, D("0.00")),
        ("inbound_us", D("0.05"), None, D("0.00")),
    ]


def test_r_call_2_amount_is_the_rounded_sum_not_the_sum_of_rounded_costs(make_contract):
    contract = make_contract()
    calls = [call(f"c{i}", adjusted_s=18, rate="0.0500") for i in range(3)]  # 0.0150 each
    assert {c.cost for c in calls} == {D("0.0150")}
    assert priced(contract, charges(contract, calls=calls)) == [
        ("outbound_us", "0.90", None, "0.05")  # 0.0450 → 0.05; per call it would be 0.06
    ]


def test_r_call_2_amount_in_yen_rounds_to_whole_yen(make_contract):
    contract = make_contract(currency="JPY")
    calls = [
        call("c1", adjusted_s=60, amount="1.5000", rate="1.5"),
        call("c2", adjusted_s=60, amount="1.0000", rate="1.0"),
        call("c3", country="JP", adjusted_s=60, amount="0.4000", rate="0.4"),
    ]
    assert priced(contract, charges(contract, calls=calls)) == [
        ("outbound_us", "2.00", None, "3"),  # 2.5 half-up
        ("outbound_intl", "1.00", None, "0"),  # quantity above 0: the line stays
    ]


def test_r_call_2_calls_bill_in_the_period_they_started(make_contract):
    contract = make_contract()
    calls = [
        call("before", started="2026-02-14T23:59:59Z"),
        call("first", started="2026-02-15T00:00:00Z"),  # spans nothing; started at ps
        call("at-end", started="2026-03-15T00:00:00Z"),  # pe is exclusive
        call("empty", service="inbound", adjusted_s=0),  # 0 min, 0 cost: no line
    ]
    assert priced(contract, charges(contract, calls=calls)) == [
        ("outbound_us", "1.00", None, "0.01")
    ]


# --- R-call-3 -------------------------------------------------------------------------------------


def test_r_call_3_surcharge_for_outbound_calls_of_exactly_6_s_at_a_rate(make_contract):
    contract = make_contract(telco={"short_call_surcharge": "0.0125"})
    calls = [
        call("yes-1", service="outbound", adjusted_s=6),
        call("yes-2", service="extended_outbound", country="GB", adjusted_s=6),
        call("inbound", service="inbound", adjusted_s=6),
        call("longer", service="outbound", adjusted_s=12),
        call("shorter", service="outbound", adjusted_s=5),
        call("free", service="outbound", adjusted_s=6, rate="0"),
    ]
    result = charges(contract, calls=calls)
    surcharge = [x for x in result.lines if x.product == "short_call_surcharge"]
    assert [(x.section, x.description, x.quantity, x.rate) for x in surcharge] == [
        (TELCO_CHARGES, "Short Duration Call Surcharge", D(2), D("0.0125"))
    ]
    assert result.lines[-1] == surcharge[0]  # after the calling lines
    assert ("short_call_surcharge", "2", "0.0125", "0.03") in priced(contract, result)


def test_r_call_3_surcharge_without_price_is_reported(make_contract):
    contract = make_contract()
    result = charges(contract, calls=[call("c1", adjusted_s=6)])
    assert [x.product for x in result.lines] == ["outbound_us"]
    assert result.warnings == (
        "1 short_call_surcharge not billed: the contract has no telco.short_call_surcharge",
    )


# --- R-call-4 -------------------------------------------------------------------------------------

SERVICES = ("outbound", "extended_outbound", "inbound")


def group(c: Call) -> str:
    """R-invoice-5, written out independently of the module under test."""
    return c.service + ("_us" if c.country == "US" else "_intl")


random_call = st.builds(
    lambda n, start, service, country, seconds, rate: call(
        f"c{n}",
        started="2026-02-15T00:00:00Z",
        service=service,
        country=country,
        adjusted_s=seconds,
        rate=str(rate),
    )._replace(started_ms=P1.start_ms + start),
    st.integers(0, 10**9),
    st.integers(-DAY_MS, P1.end_ms - P1.start_ms + DAY_MS),
    st.sampled_from(SERVICES),
    st.sampled_from(("US", "GB", "JP")),
    st.integers(0, 7200),
    st.decimals(min_value=0, max_value=5, places=4, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(random_call, max_size=40), st.sampled_from(("USD", "JPY", "EUR")))
def test_r_call_4_each_line_amount_is_the_rounded_sum_of_its_calls_costs(
    make_contract, calls, currency
):
    contract = make_contract(currency=currency)
    result = rate_charges(contract, P1, {"calls": calls})
    in_period = [c for c in calls if P1.start_ms <= c.started_ms < P1.end_ms]
    lines = {x.product: x for x in result.lines}
    for product, line in lines.items():
        mine = [c for c in in_period if group(c) == product]
        assert line.amount == round_money(sum((c.cost for c in mine), D(0)), currency)
        seconds = sum(c.adjusted_duration_s for c in mine)
        assert line.quantity == (D(seconds) / 60).quantize(D("0.01"), rounding=ROUND_HALF_UP)
        assert line.rate is None
    # every call of the period is on exactly one line, unless its group has no minutes and no cost
    for c in in_period:
        assert group(c) in lines or c.adjusted_duration_s == 0


# --- R-sub-1, R-partner-1, R-bill-1 ---------------------------------------------------------------


def everything(contract):
    return charges(
        contract,
        billing_period(ACTIVATION, 0),
        resources=[ResourceUse(day("2026-01-20"), "ivr_minutes", D("1500"))],
        devices=[Device("edge-1", "physical_edge", at("2026-01-20T00:00:00Z"), OPEN_END)],
        numbers=[PhoneNumber("+13125550100", "did", at("2026-01-20T00:00:00Z"), OPEN_END)],
        calls=[call("c1", started="2026-01-20T10:00:00Z", adjusted_s=6)],
    )


def test_r_sub_1_charges_bill_in_a_ramp_period_without_licenses(make_contract, spec_contract):
    contract = make_contract(base=spec_contract, ramp_license_billing="none", taxes=[])
    period0 = billing_period(ACTIVATION, 0)
    usage = LicenseUsage()
    usage.actual = {"CX1": D(5), "CX2": D(30), "CX3": D(0)}
    result = everything(contract)
    invoice = period_invoice(contract, period0, usage, advance=False, charges=result.lines)
    record = invoice.as_json()
    assert [(x["section"], x["product"], x["amount"]) for x in record["lines"]] == [
        (RESOURCE_CHARGES, "ivr_minutes", "6.00"),
        (DEVICE_CHARGES, "physical_edge", "250.00"),
        (TELCO_CHARGES, "did_monthly", "1.00"),
        (TELCO_CHARGES, "did_setup", "1.00"),
        (TELCO_CHARGES, "outbound_us", "0.00"),
        (TELCO_CHARGES, "short_call_surcharge", "0.01"),
    ]
    assert record["subtotal"] == "258.01"
    assert (record["period_start"], record["period_end"]) == (
        "2026-01-15T00:00:00Z",
        "2026-02-15T00:00:00Z",
    )


def test_r_price_1_charge_warnings_reach_the_invoice(make_contract):
    contract = make_contract(devices=DEVICE_TERMS)
    rows = [Device("v-1", "virtual_edge", at("2026-02-16T00:00:00Z"), OPEN_END)]
    rows.append(Device("e-1", "physical_edge", at("2026-02-16T00:00:00Z"), OPEN_END))
    result = charges(contract, devices=rows)
    invoice = period_invoice(
        contract, P1, LicenseUsage(), charges=result.lines, charge_warnings=result.warnings
    )
    assert invoice.as_json()["warnings"] == list(result.warnings)
    estimate = bill_to_date(
        contract, P1, LicenseUsage(), charges=result.lines, charge_warnings=result.warnings
    )
    assert estimate.kind == "estimate"
    assert estimate.warnings == result.warnings
    assert [x.product for x in estimate.lines] == ["physical_edge"]


def test_r_partner_1_statement_shows_charges_without_any_cost(make_contract, spec_contract):
    contract = make_contract(base=spec_contract, partner="Partner Co")
    result = everything(contract)
    period0 = billing_period(ACTIVATION, 0)
    statement = period_invoice(contract, period0, LicenseUsage(), False, charges=result.lines)
    record = statement.as_json()
    assert record["kind"] == "statement"
    assert [(x["product"], x["quantity"]) for x in record["lines"]] == [
        ("ivr_minutes", "500"),
        ("physical_edge", "1"),
        ("did_monthly", "1"),
        ("did_setup", "1"),
        ("outbound_us", "0.10"),
        ("short_call_surcharge", "1"),
    ]
    for line in record["lines"]:
        assert not {"rate", "amount"} & set(line)
    assert not {"subtotal", "taxes", "total"} & set(record)
