"""Invoice assembly: R-sub-1..7, R-hourly-2, R-money-1/2, R-partner-1, R-once-1, R-invoice-3/5."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from cxbill.domain.contract import Charge
from cxbill.domain.invoice import one_time_invoice, opening_invoice, period_invoice
from cxbill.domain.lines import CORE_SERVICES, DEVICE_CHARGES
from cxbill.domain.periods import billing_period
from cxbill.domain.rating import LicenseUsage

D = Decimal
ACTIVATION = date(2026, 1, 15)


def usage(cx1=0, cx2=0, cx3=0, digital=0, wem=0, warnings=()) -> LicenseUsage:
    result = LicenseUsage()
    result.actual = {"CX1": D(cx1), "CX2": D(cx2), "CX3": D(cx3)}
    result.add_ons = {"DIGITAL": digital, "WEM": wem}
    result.warnings = list(warnings)
    return result


def period(k: int):
    return billing_period(ACTIVATION, k)


def lines(invoice) -> list[tuple]:
    """(product, quantity, rate, amount) of each line, as the JSON record writes them."""
    return [
        (line["product"], line["quantity"], line["rate"], line["amount"])
        for line in invoice.as_json()["lines"]
    ]


def services(invoice) -> dict[str, tuple[str, str]]:
    return {
        line["product"]: (line["service_start"], line["service_end"])
        for line in invoice.as_json()["lines"]
    }


def z(day: str) -> str:
    return f"{day}T00:00:00Z"


# --- R-sub-2 monthly ------------------------------------------------------------------------------


def test_r_sub_2_monthly_actual_above_commitment(make_contract):
    contract = make_contract(commitments={"CX2": 20})
    invoice = period_invoice(contract, period(0), usage(cx2=25))
    assert lines(invoice) == [
        ("CX2_PREPAY", "20", "95.00", "1900.00"),
        ("CX2", "5", "115.00", "575.00"),
    ]
    assert invoice.subtotal == D("2475.00")
    assert invoice.total == D("2475.00")
    assert services(invoice)["CX2"] == (z("2026-01-15"), z("2026-02-15"))
    assert services(invoice)["CX2_PREPAY"] == (z("2026-01-15"), z("2026-02-15"))


def test_r_sub_2_monthly_actual_below_commitment_bills_the_commitment(make_contract):
    contract = make_contract(commitments={"CX2": 20})
    invoice = period_invoice(contract, period(3), usage(cx2=10))
    assert lines(invoice) == [("CX2_PREPAY", "20", "95.00", "1900.00")]
    assert invoice.as_json()["lines"][0]["description"] == "Cloud CX 2 User – Prepay"


def test_r_sub_2_monthly_commitment_with_no_usage_still_billed(make_contract):
    contract = make_contract(commitments={"CX2": 20})
    assert lines(period_invoice(contract, period(0), usage())) == [
        ("CX2_PREPAY", "20", "95.00", "1900.00")
    ]


def test_r_sub_5_cx3_user_does_not_consume_a_cx2_commitment(make_contract):
    contract = make_contract(commitments={"CX2": 20})
    invoice = period_invoice(contract, period(0), usage(cx2=10, cx3=5))
    assert lines(invoice) == [
        ("CX2_PREPAY", "20", "95.00", "1900.00"),
        ("CX3", "5", "160.00", "800.00"),
    ]
    names = [line["description"] for line in invoice.as_json()["lines"]]
    assert names == ["Cloud CX 2 User – Prepay", "Cloud CX 3 User"]


def test_r_sub_5_commitments_per_tier(make_contract):
    contract = make_contract(commitments={"CX1": 5, "CX3": 2})
    invoice = period_invoice(contract, period(0), usage(cx1=7, cx2=1, cx3=1))
    assert lines(invoice) == [
        ("CX1_PREPAY", "5", "75.00", "375.00"),
        ("CX1", "2", "90.00", "180.00"),
        ("CX2", "1", "115.00", "115.00"),
        ("CX3_PREPAY", "2", "135.00", "270.00"),
    ]


def test_r_sub_2_concurrent_line_names(make_contract):
    contract = make_contract(license_model="concurrent", commitments={"CX2": 1})
    invoice = period_invoice(contract, period(0), usage(cx2=2))
    names = [(line["product"], line["description"]) for line in invoice.as_json()["lines"]]
    assert names == [
        ("CX2_PREPAY", "Cloud CX 2 Concurrent User – Prepay"),
        ("CX2", "Cloud CX 2 Concurrent User"),
    ]


# --- R-sub-1 ramp ---------------------------------------------------------------------------------


def test_r_sub_1_ramp_none_bills_no_license_lines_but_bills_add_ons(make_contract):
    contract = make_contract(ramp_periods=2, commitments={"CX2": 20})
    invoice = period_invoice(contract, period(0), usage(cx1=5, cx2=30, digital=3, wem=1))
    assert lines(invoice) == [
        ("DIGITAL", "3", "20.00", "60.00"),
        ("WEM", "1", "30.00", "30.00"),
    ]
    names = [line["description"] for line in invoice.as_json()["lines"]]
    assert names == ["Digital Add-on", "WEM Add-on"]


def test_r_sub_1_ramp_none_without_add_ons_issues_nothing(make_contract):
    contract = make_contract(ramp_periods=2)
    assert period_invoice(contract, period(0), usage(cx1=5, cx3=2)) is None


def test_r_sub_1_ramp_actual_bills_actual_at_overage(make_contract):
    contract = make_contract(ramp_periods=2, ramp_license_billing="actual", commitments={"CX2": 20})
    invoice = period_invoice(contract, period(0), usage(cx1=5, cx2=3))
    assert lines(invoice) == [("CX1", "5", "90.00", "450.00"), ("CX2", "3", "115.00", "345.00")]


def test_r_sub_1_term_starts_after_the_ramp(make_contract):
    contract = make_contract(ramp_periods=2, commitments={"CX2": 20})
    assert lines(period_invoice(contract, period(2), usage(cx2=21))) == [
        ("CX2_PREPAY", "20", "95.00", "1900.00"),
        ("CX2", "1", "115.00", "115.00"),
    ]


# --- R-sub-3 annual_monthly -----------------------------------------------------------------------


@pytest.fixture
def annual_monthly_ramp(make_contract):
    return make_contract(
        subscription="annual_monthly",
        ramp_periods=2,
        ramp_license_billing="actual",
        commitments={"CX2": 20},
    )


def test_r_sub_3_first_ramp_close_holds_only_ramp_actuals(annual_monthly_ramp):
    invoice = period_invoice(annual_monthly_ramp, period(0), usage(cx2=4))
    assert lines(invoice) == [("CX2", "4", "115.00", "460.00")]


def test_r_sub_3_last_ramp_close_holds_ramp_actuals_and_first_prepay(annual_monthly_ramp):
    invoice = period_invoice(annual_monthly_ramp, period(1), usage(cx2=4))
    assert lines(invoice) == [
        ("CX2", "4", "115.00", "460.00"),
        ("CX2_PREPAY", "20", "95.00", "1900.00"),
    ]
    service = services(invoice)
    assert service["CX2"] == (z("2026-02-15"), z("2026-03-15"))  # period 1, in arrears
    assert service["CX2_PREPAY"] == (z("2026-03-15"), z("2026-04-15"))  # period 2, in advance
    record = invoice.as_json()
    assert (record["period_start"], record["period_end"]) == (z("2026-02-15"), z("2026-03-15"))
    assert record["issue_date"] == "2026-03-15"


def test_r_sub_3_term_close_bills_overage_and_next_prepay(annual_monthly_ramp):
    invoice = period_invoice(annual_monthly_ramp, period(2), usage(cx2=25))
    assert lines(invoice) == [
        ("CX2", "5", "115.00", "575.00"),
        ("CX2_PREPAY", "20", "95.00", "1900.00"),
    ]
    assert services(invoice)["CX2"] == (z("2026-03-15"), z("2026-04-15"))
    assert services(invoice)["CX2_PREPAY"] == (z("2026-04-15"), z("2026-05-15"))


def test_r_sub_3_term_close_under_commitment_bills_only_next_prepay(annual_monthly_ramp):
    invoice = period_invoice(annual_monthly_ramp, period(5), usage(cx2=10))
    assert lines(invoice) == [("CX2_PREPAY", "20", "95.00", "1900.00")]


def test_r_sub_3_bill_to_date_has_no_advance_prepay(annual_monthly_ramp):
    invoice = period_invoice(annual_monthly_ramp, period(5), usage(cx2=25), advance=False)
    assert lines(invoice) == [("CX2", "5", "115.00", "575.00")]


def test_r_sub_3_opening_invoice_for_period_0_without_ramp(make_contract):
    contract = make_contract(subscription="annual_monthly", commitments={"CX2": 20})
    invoice = opening_invoice(contract)
    record = invoice.as_json()
    assert record["kind"] == "opening"
    assert record["issue_date"] == "2026-01-15"
    assert record["due_date"] == "2026-02-14"
    # R-sub-7: the opening invoice's period is the period it opens.
    assert (record["period_start"], record["period_end"]) == (z("2026-01-15"), z("2026-02-15"))
    assert lines(invoice) == [("CX2_PREPAY", "20", "95.00", "1900.00")]
    assert services(invoice)["CX2_PREPAY"] == (z("2026-01-15"), z("2026-02-15"))


def test_r_sub_3_close_of_period_0_bills_overage_and_prepay_of_period_1(make_contract):
    contract = make_contract(subscription="annual_monthly", commitments={"CX2": 20})
    invoice = period_invoice(contract, period(0), usage(cx2=22))
    assert lines(invoice) == [
        ("CX2", "2", "115.00", "230.00"),
        ("CX2_PREPAY", "20", "95.00", "1900.00"),
    ]
    assert services(invoice)["CX2_PREPAY"] == (z("2026-02-15"), z("2026-03-15"))


# --- R-sub-4 annual_prepay ------------------------------------------------------------------------


def test_r_sub_4_annual_prepay_opening_bills_twelve_months(make_contract):
    contract = make_contract(subscription="annual_prepay", commitments={"CX1": 5, "CX2": 20})
    invoice = opening_invoice(contract)
    assert invoice.kind == "opening"
    assert lines(invoice) == [
        ("CX1_PREPAY", "60", "75.00", "4500.00"),
        ("CX2_PREPAY", "240", "95.00", "22800.00"),
    ]
    assert services(invoice)["CX2_PREPAY"] == (z("2026-01-15"), z("2027-01-15"))
    record = invoice.as_json()
    assert (record["period_start"], record["period_end"]) == (z("2026-01-15"), z("2026-02-15"))
    assert record["subtotal"] == record["total"] == "27300.00"


def test_r_sub_4_annual_prepay_closings_bill_only_overage(make_contract):
    contract = make_contract(subscription="annual_prepay", commitments={"CX2": 20})
    for k in (0, 1, 10):
        assert period_invoice(contract, period(k), usage(cx2=20)) is None
    assert lines(period_invoice(contract, period(4), usage(cx2=23, cx3=1))) == [
        ("CX2", "3", "115.00", "345.00"),
        ("CX3", "1", "160.00", "160.00"),
    ]


@pytest.mark.parametrize(
    ("k", "year_start", "year_end"), [(11, "2027", "2028"), (23, "2028", "2029")]
)
def test_r_sub_4_annual_prepay_no_ramp_close_opening_a_year(make_contract, k, year_start, year_end):
    contract = make_contract(subscription="annual_prepay", commitments={"CX2": 20})
    invoice = period_invoice(contract, period(k), usage(cx2=21))
    assert lines(invoice) == [
        ("CX2", "1", "115.00", "115.00"),
        ("CX2_PREPAY", "240", "95.00", "22800.00"),
    ]
    assert services(invoice)["CX2_PREPAY"] == (z(f"{year_start}-01-15"), z(f"{year_end}-01-15"))


def test_r_sub_4_annual_prepay_with_ramp(make_contract):
    contract = make_contract(
        subscription="annual_prepay", ramp_periods=2, commitments={"CX2": 20, "CX3": 1}
    )
    assert opening_invoice(contract) is None
    assert period_invoice(contract, period(0), usage(cx2=3)) is None  # ramp `none`
    invoice = period_invoice(contract, period(1), usage(cx2=3))  # opens term period 0
    assert lines(invoice) == [
        ("CX2_PREPAY", "240", "95.00", "22800.00"),
        ("CX3_PREPAY", "12", "135.00", "1620.00"),
    ]
    assert services(invoice)["CX2_PREPAY"] == (z("2026-03-15"), z("2027-03-15"))
    # Term periods 1 .. 11 (periods 3 .. 13 overall) open no year.
    for k in range(2, 13):
        assert period_invoice(contract, period(k), usage(cx2=20, cx3=1)) is None, k
    year_two = period_invoice(contract, period(13), usage(cx2=20, cx3=1))  # opens term period 12
    assert lines(year_two) == [
        ("CX2_PREPAY", "240", "95.00", "22800.00"),
        ("CX3_PREPAY", "12", "135.00", "1620.00"),
    ]
    assert services(year_two)["CX2_PREPAY"] == (z("2027-03-15"), z("2028-03-15"))
    year_three = period_invoice(contract, period(25), usage(cx2=20, cx3=1))
    assert services(year_three)["CX3_PREPAY"] == (z("2028-03-15"), z("2029-03-15"))


# --- opening_invoice (R-sub-3/4, R-sub-7, R-hourly-2, R-partner-2) --------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"subscription": "monthly", "commitments": {"CX2": 20}},
        {"subscription": "annual_monthly", "license_model": "hourly"},
        {"subscription": "annual_prepay", "license_model": "hourly"},
        {"subscription": "annual_monthly", "ramp_periods": 1, "commitments": {"CX2": 20}},
        {"subscription": "annual_prepay", "partner": "Partner Co", "commitments": {"CX2": 20}},
        {"subscription": "annual_monthly"},  # nothing committed
    ],
)
def test_r_sub_3_no_opening_invoice(make_contract, overrides):
    assert opening_invoice(make_contract(**overrides)) is None


# --- R-hourly-2 -----------------------------------------------------------------------------------


def test_r_hourly_2_hours_lines(make_contract):
    contract = make_contract(license_model="hourly", subscription="annual_prepay")
    invoice = period_invoice(contract, period(11), usage(cx1=D("12.50"), cx3=D("0.75")))
    assert lines(invoice) == [
        ("CX1_HOURS", "12.50", "1.10", "13.75"),
        ("CX3_HOURS", "0.75", "1.95", "1.46"),
    ]
    names = [line["description"] for line in invoice.as_json()["lines"]]
    assert names == ["Cloud CX 1 User Hours", "Cloud CX 3 User Hours"]


def test_r_hourly_2_in_ramp_follows_ramp_license_billing(make_contract):
    none = make_contract(license_model="hourly", ramp_periods=1)
    assert period_invoice(none, period(0), usage(cx2=D("3.00"))) is None
    assert lines(period_invoice(none, period(1), usage(cx2=D("3.00")))) == [
        ("CX2_HOURS", "3.00", "1.40", "4.20")
    ]
    actual = make_contract(license_model="hourly", ramp_periods=1, ramp_license_billing="actual")
    assert lines(period_invoice(actual, period(0), usage(cx2=D("3.00"), wem=1))) == [
        ("CX2_HOURS", "3.00", "1.40", "4.20"),
        ("WEM", "1", "30.00", "30.00"),
    ]


# --- R-money-1 / R-money-2 ------------------------------------------------------------------------


def jpy_prices(cx1: str, cx2: str) -> dict:
    return {
        "CX1": {"overage": cx1},
        "CX2": {"overage": cx2},
        "CX3": {"overage": "1000"},
    }


def test_r_money_1_jpy_rounding_half_up(make_contract):
    contract = make_contract(currency="JPY", prices=jpy_prices("0.5", "11000.5"))
    invoice = period_invoice(contract, period(0), usage(cx1=3, cx2=1))
    assert lines(invoice) == [("CX1", "3", "0.5", "2"), ("CX2", "1", "11000.5", "11001")]
    assert invoice.as_json()["subtotal"] == "11003"
    assert invoice.as_json()["total"] == "11003"


def test_r_money_2_each_tax_rounded_from_the_subtotal(make_contract):
    contract = make_contract(
        prices={
            "CX1": {"overage": "0.10"},
            "CX2": {"overage": "0.10"},
            "CX3": {"overage": "1.00"},
        },
        taxes=[{"name": "State", "rate": "0.05"}, {"name": "City", "rate": "0.025"}],
    )
    invoice = period_invoice(contract, period(0), usage(cx1=1, cx2=1))
    record = invoice.as_json()
    assert record["subtotal"] == "0.20"
    # per line each 5 % tax would round 0.005 up twice (0.02); from the subtotal it is 0.01
    assert record["taxes"] == [
        {"name": "State", "rate": "0.05", "amount": "0.01"},
        {"name": "City", "rate": "0.025", "amount": "0.01"},
    ]
    assert record["total"] == "0.22"
    assert all(line["section"] == CORE_SERVICES for line in record["lines"])


def test_r_money_2_taxes_half_up_and_total(make_contract):
    contract = make_contract(
        taxes=[{"name": "State sales tax", "rate": "0.0625"}, {"name": "Local", "rate": "0.0825"}]
    )
    record = period_invoice(contract, period(0), usage(cx1=7)).as_json()
    assert record["subtotal"] == "630.00"
    assert [t["amount"] for t in record["taxes"]] == ["39.38", "51.98"]  # 39.375, 51.975
    assert record["total"] == "721.36"


def test_r_money_2_line_rounding_to_zero_stays(make_contract):
    prices = {"CX1": {"overage": "0.0040"}, "CX2": {"overage": "1"}, "CX3": {"overage": "1"}}
    invoice = period_invoice(make_contract(prices=prices), period(0), usage(cx1=1))
    assert lines(invoice) == [("CX1", "1", "0.0040", "0.00")]
    assert invoice.as_json()["total"] == "0.00"


# --- R-sub-6 --------------------------------------------------------------------------------------


def test_r_sub_6_zero_quantity_lines_left_out(make_contract):
    invoice = period_invoice(make_contract(), period(0), usage(cx1=3, cx2=0, digital=0))
    assert lines(invoice) == [("CX1", "3", "90.00", "270.00")]


def test_r_sub_6_no_lines_no_invoice(make_contract):
    assert period_invoice(make_contract(), period(0), usage()) is None
    assert one_time_invoice(make_contract(), ACTIVATION, []) is None


# --- R-partner-1 ----------------------------------------------------------------------------------


COST_KEYS = {"rate", "amount", "subtotal", "taxes", "total"}


def keys_anywhere(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_anywhere(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_anywhere(v)}
    return set()


def test_r_partner_1_statement_without_any_cost_field(make_contract):
    contract = make_contract(
        partner="Partner Co",
        commitments={"CX2": 20},
        taxes=[{"name": "VAT", "rate": "0.2"}],
    )
    statement = period_invoice(contract, period(0), usage(cx2=25, cx3=1, digital=2))
    record = statement.as_json()
    assert record["kind"] == "statement"
    assert not keys_anywhere(record) & COST_KEYS
    assert [(line["product"], line["quantity"]) for line in record["lines"]] == [
        ("CX2_PREPAY", "20"),
        ("CX2", "5"),
        ("CX3", "1"),
        ("DIGITAL", "2"),
    ]
    assert record["due_date"] == "2026-03-17"  # R-partner-2: keeps its due date


# --- R-once-1 -------------------------------------------------------------------------------------


def test_r_once_1_one_time_and_hardware_on_the_same_date_in_one_invoice(make_contract):
    day = "2026-02-03"
    contract = make_contract(
        one_time=[{"description": "Enablement package", "amount": "5000.00", "date": day}],
        hardware=[{"description": "Physical Edge", "amount": "4000.00", "shipped_at": day}],
        taxes=[{"name": "State sales tax", "rate": "0.0625"}],
        payment_terms_days=15,
    )
    # hardware first in the input: the invoice still lists sections in order
    invoice = one_time_invoice(contract, date(2026, 2, 3), list(reversed(contract.charges)))
    record = invoice.as_json()
    assert record["kind"] == "one_time"
    assert (record["issue_date"], record["due_date"]) == ("2026-02-03", "2026-02-18")
    assert (record["period_start"], record["period_end"]) == (z(day), z("2026-02-04"))
    assert [
        (line["section"], line["product"], line["description"], line["quantity"], line["rate"])
        for line in record["lines"]
    ] == [
        (CORE_SERVICES, "one_time", "Enablement package", "1", "5000.00"),
        (DEVICE_CHARGES, "hardware", "Physical Edge", "1", "4000.00"),
    ]
    assert {(line["service_start"], line["service_end"]) for line in record["lines"]} == {
        (z(day), z("2026-02-04"))
    }
    assert record["subtotal"] == "9000.00"
    assert record["taxes"][0]["amount"] == "562.50"
    assert record["total"] == "9562.50"


def test_r_once_1_jpy_amount(make_contract):
    contract = make_contract(currency="JPY", prices=jpy_prices("10", "20"))
    charge = Charge("one_time", "Setup", D("500000"), ACTIVATION)
    assert lines(one_time_invoice(contract, ACTIVATION, [charge])) == [
        ("one_time", "1", "500000", "500000")
    ]


# --- R-invoice-3 / R-invoice-5 --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "due"), [(30, "2026-03-17"), (0, "2026-02-15"), (365, "2027-02-15")]
)
def test_r_invoice_3_due_date_is_issue_plus_payment_terms(make_contract, terms, due):
    invoice = period_invoice(make_contract(payment_terms_days=terms), period(0), usage(cx1=1))
    assert invoice.issue_date == date(2026, 2, 15)
    assert invoice.as_json()["due_date"] == due


def test_r_invoice_5_record_keys_and_number(make_contract):
    contract = make_contract(taxes=[{"name": "VAT", "rate": "0.2"}])
    record = period_invoice(contract, period(0), usage(cx1=1)).numbered(7).as_json()
    assert list(record) == [
        "number",
        "kind",
        "org_id",
        "issue_date",
        "due_date",
        "currency",
        "period_start",
        "period_end",
        "lines",
        "subtotal",
        "taxes",
        "total",
        "warnings",
    ]
    assert record["number"] == "ACME-US-000007"
    assert (record["kind"], record["org_id"], record["currency"]) == ("period", "acme-us", "USD")
    assert list(record["lines"][0]) == [
        "section",
        "product",
        "description",
        "service_start",
        "service_end",
        "quantity",
        "rate",
        "amount",
    ]
    assert record["taxes"] == [{"name": "VAT", "rate": "0.2", "amount": "18.00"}]
    assert record["total"] == "108.00"
    assert record["warnings"] == []


# --- warnings -------------------------------------------------------------------------------------


def test_r_contract_5_add_on_without_price_not_billed_with_a_warning(
    make_contract, make_contract_dict
):
    obj = make_contract_dict()
    del obj["prices"]["DIGITAL"]
    contract = make_contract(prices=obj["prices"])
    invoice = period_invoice(contract, period(0), usage(cx1=2, digital=2, wem=1))
    assert lines(invoice) == [("CX1", "2", "90.00", "180.00"), ("WEM", "1", "30.00", "30.00")]
    (warning,) = invoice.as_json()["warnings"]
    assert "DIGITAL" in warning and "no price" in warning


def test_r_tier_2_warning_carried_onto_the_invoice(make_contract):
    note = "user u9 logged in without a Cloud CX license; billed as CX1"
    invoice = period_invoice(make_contract(), period(0), usage(cx1=1, warnings=[note]))
    assert invoice.as_json()["warnings"] == [note]


def test_r_sub_3_annual_monthly_two_ramp_periods_none_bills_only_the_first_prepay(make_contract):
    contract = make_contract(
        subscription="annual_monthly",
        ramp_periods=2,
        ramp_license_billing="none",
        commitments={"CX2": 20},
    )
    assert period_invoice(contract, period(0), usage(cx2=4)) is None  # R-sub-1, R-sub-6
    invoice = period_invoice(contract, period(1), usage(cx2=4))
    assert lines(invoice) == [("CX2_PREPAY", "20", "95.00", "1900.00")]
    assert services(invoice)["CX2_PREPAY"] == (z("2026-03-15"), z("2026-04-15"))
