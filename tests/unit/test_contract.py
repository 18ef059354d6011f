"""Contract validation (R-contract-1..9, R-once-1 entry identity)."""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxbill.domain.contract import (
    MAX_CONTRACT_BYTES,
    Charge,
    Tax,
    contract_from_json,
    parse_contract,
)
from cxbill.domain.problems import Rejected

D = Decimal


def columns(problems) -> set[str | None]:
    return {p.column for p in problems}


# --- a valid contract -----------------------------------------------------------------------------


def test_r_contract_spec_section_2_contract_parses(spec_contract):
    contract, obj = parse_contract(json.dumps(spec_contract).encode(), "acme-us")
    assert obj == spec_contract
    assert contract.org_id == "acme-us"
    assert contract.name == "Acme Corp"
    assert contract.billing_address == ("Acme Corp", "1 Main St", "Springfield, IL 62701", "US")
    assert (contract.region, contract.currency) == ("us-east-1", "USD")
    assert contract.activation_date == date(2026, 1, 15)
    assert (contract.license_model, contract.subscription) == ("named", "monthly")
    assert (contract.ramp_periods, contract.ramp_license_billing) == (2, "none")
    assert contract.default_tier == "CX1"
    assert contract.commitments == {"CX2": 20}
    assert [contract.committed(t) for t in ("CX1", "CX2", "CX3")] == [0, 20, 0]
    assert contract.price("CX2", "prepay") == D("95.00")
    assert contract.price("CX3", "hourly") == D("1.95")
    assert contract.price("WEM", "overage") == D("30.00")
    assert contract.price("WEM", "prepay") is None
    assert contract.resources == {"ivr_minutes": {"included": D("1000"), "rate": D("0.012")}}
    assert contract.devices == {"physical_edge": {"monthly": D("250.00")}}
    assert contract.numbers["toll_free"] == {"setup": D("2.00"), "monthly": D("2.00")}
    assert contract.telco == {"short_call_surcharge": D("0.01")}
    assert contract.charges == (
        Charge("one_time", "Enablement package", D("5000.00"), date(2026, 1, 15)),
        Charge("hardware", "Physical Edge appliance", D("4000.00"), date(2026, 2, 3)),
    )
    assert contract.taxes == (Tax("State sales tax", D("0.0625")),)
    assert contract.payment_terms_days == 30
    assert contract.partner is None
    assert contract.trial is False
    assert all(isinstance(v, Decimal) for p in contract.prices.values() for v in p.values())


def test_r_contract_stored_contract_round_trips(spec_contract):
    contract, obj = parse_contract(json.dumps(spec_contract).encode(), "acme-us")
    assert contract_from_json(obj) == contract


def test_r_contract_6_defaults(make_contract):
    contract = make_contract()
    assert contract.ramp_periods == 0
    assert contract.ramp_license_billing == "none"
    assert contract.default_tier == "CX1"
    assert contract.commitments == {}
    assert (contract.resources, contract.devices, contract.numbers, contract.telco) == (
        {},
        {},
        {},
        {},
    )
    assert (contract.charges, contract.taxes) == ((), ())
    assert contract.payment_terms_days == 30
    assert contract.partner is None
    assert contract.trial is False
    assert contract.billing_address == ("Acme Corp",)


def test_r_contract_9_leading_byte_order_mark_ignored(make_contract_dict):
    data = b"\xef\xbb\xbf" + json.dumps(make_contract_dict()).encode()
    contract, _ = parse_contract(data, "acme-us")
    assert contract.org_id == "acme-us"


def test_r_contract_1_key_org_optional_when_not_from_a_key(make_contract_dict):
    contract, _ = parse_contract(json.dumps(make_contract_dict()).encode(), None)
    assert contract.org_id == "acme-us"


# --- R-contract-1 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("org_id", ["Acme-US", "acme_us", "a", "-acme", "acme us", "a" * 64, 7])
def test_r_contract_1_bad_org_id_rejected(make_contract_dict, problems_of, org_id):
    key = org_id if isinstance(org_id, str) else "acme-us"
    assert "org_id" in columns(problems_of(make_contract_dict(org_id=org_id), key))


def test_r_contract_1_org_id_length_bounds(make_contract):
    assert make_contract(org_id="ab").org_id == "ab"
    assert make_contract(org_id="a" * 63).org_id == "a" * 63
    assert make_contract(org_id="0-9").org_id == "0-9"


def test_r_contract_1_org_id_differs_from_key_rejected(make_contract_dict, problems_of):
    problems = problems_of(make_contract_dict(org_id="acme-eu"), "acme-us")
    assert [(p.column, p.value) for p in problems] == [("org_id", "acme-eu")]
    assert "acme-us" in problems[0].message


# --- R-contract-2 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("currency", ["XYZ", "usd", "CHF", "", None, ["USD"], {"USD": 1}])
def test_r_contract_2_currency_outside_the_list_rejected(make_contract_dict, problems_of, currency):
    problems = problems_of(make_contract_dict(currency=currency))
    assert columns(problems) == {"currency"}


@pytest.mark.parametrize("currency", ["AUD", "BRL", "CAD", "EUR", "GBP", "JPY", "NZD", "USD"])
def test_r_contract_2_accepted_currencies(make_contract, currency):
    assert make_contract(currency=currency).currency == currency


# --- R-contract-3 / R-contract-4 ------------------------------------------------------------------


@pytest.mark.parametrize("model", ["named+concurrent", "mixed", ["named", "concurrent"], "Named"])
def test_r_contract_3_license_model_mix_rejected(make_contract_dict, problems_of, model):
    assert columns(problems_of(make_contract_dict(license_model=model))) == {"license_model"}


@pytest.mark.parametrize("model", ["named", "concurrent", "hourly"])
def test_r_contract_3_one_license_model(make_contract, model):
    assert make_contract(license_model=model).license_model == model


@pytest.mark.parametrize("subscription", ["monthly", "annual_monthly", "annual_prepay"])
def test_r_contract_4_subscriptions(make_contract, subscription):
    assert make_contract(subscription=subscription).subscription == subscription


def test_r_contract_4_unknown_subscription_rejected(make_contract_dict, problems_of):
    assert columns(problems_of(make_contract_dict(subscription="annual"))) == {"subscription"}


def test_r_contract_4_hourly_with_commitments_rejected(make_contract_dict, problems_of):
    obj = make_contract_dict(license_model="hourly", commitments={"CX1": 5})
    assert columns(problems_of(obj)) == {"commitments"}


def test_r_contract_5_hourly_with_empty_commitments_accepted(make_contract):
    contract = make_contract(license_model="hourly", commitments={})
    assert contract.commitments == {}


def test_r_contract_5_zero_commitment_counts_as_none(make_contract):
    assert make_contract(commitments={"CX2": 0}).commitments == {}


# --- R-contract-5 ---------------------------------------------------------------------------------


MISSING = object()


def prices_with(obj: dict, product: str, entry=MISSING) -> dict:
    """`obj` with prices[product] replaced by `entry`, or removed."""
    obj = copy.deepcopy(obj)
    if entry is MISSING:
        del obj["prices"][product]
    else:
        obj["prices"][product] = entry
    return obj


@pytest.mark.parametrize("value", [90, 90.0, 90.5, True, None, ["90.00"], {"v": "90"}])
def test_r_contract_5_money_as_json_number_or_other_type_rejected(
    make_contract_dict, problems_of, value
):
    obj = make_contract_dict()
    obj["prices"]["CX1"]["overage"] = value
    problems = problems_of(obj)
    assert columns(problems) == {"prices.CX1.overage"}


@pytest.mark.parametrize("value", ["-1.00", "1e3", "1,000.00", " 90.00", "", ".5", "5.", "NaN"])
def test_r_contract_5_money_string_that_is_not_a_plain_decimal_rejected(
    make_contract_dict, problems_of, value
):
    obj = make_contract_dict()
    obj["prices"]["CX2"]["prepay"] = value
    assert columns(problems_of(obj)) == {"prices.CX2.prepay"}


def test_r_contract_5_float_anywhere_is_reported_at_its_field(make_contract_dict, problems_of):
    obj = make_contract_dict(ramp_periods=1.0, payment_terms_days=30)
    obj["prices"]["CX3"]["overage"] = 160.0
    assert columns(problems_of(obj)) == {"ramp_periods", "prices.CX3.overage"}


def test_r_contract_5_rates_take_four_decimals_in_any_currency(make_contract_dict, problems_of):
    obj = make_contract_dict(currency="JPY")
    obj["prices"]["CX1"]["overage"] = "0.1234"
    obj["prices"]["CX1"]["hourly"] = "0.12345"
    assert columns(problems_of(obj)) == {"prices.CX1.hourly"}
    obj["prices"]["CX1"]["hourly"] = "0.1235"
    contract, _ = parse_contract(json.dumps(obj).encode(), "acme-us")
    assert contract.price("CX1", "overage") == D("0.1234")


@pytest.mark.parametrize(
    ("key", "entry", "column"),
    [
        ("resources", {"ivr_minutes": {"included": "1000", "rate": "0.01234"}}, "rate"),
        ("devices", {"phone": {"monthly": "1.00001"}}, "monthly"),
        ("numbers", {"did": {"setup": "1.00000", "monthly": "1"}}, "setup"),
    ],
)
def test_r_contract_5_more_than_four_decimal_rate_rejected(
    make_contract_dict, problems_of, key, entry, column
):
    (name,) = entry
    assert columns(problems_of(make_contract_dict(**{key: entry}))) == {f"{key}.{name}.{column}"}


def test_r_contract_5_telco_surcharge_rate_places(make_contract, make_contract_dict, problems_of):
    obj = make_contract_dict(telco={"short_call_surcharge": "0.00001"})
    assert columns(problems_of(obj)) == {"telco.short_call_surcharge"}
    assert make_contract(telco={"short_call_surcharge": "0.0001"}).telco == {
        "short_call_surcharge": D("0.0001")
    }


def test_r_contract_5_included_quantity_has_no_place_limit(make_contract):
    contract = make_contract(resources={"storage_gb": {"included": "0.123456", "rate": "1"}})
    assert contract.resources["storage_gb"]["included"] == D("0.123456")


def test_r_contract_5_jpy_one_time_amount_with_decimals_rejected(make_contract_dict, problems_of):
    entry = {"description": "Enablement", "amount": "5000.5", "date": "2026-01-15"}
    obj = make_contract_dict(currency="JPY", one_time=[entry])
    assert columns(problems_of(obj)) == {"one_time[0].amount"}


def test_r_contract_5_jpy_whole_amount_accepted(make_contract):
    entry = {"description": "Enablement", "amount": "500000", "date": "2026-01-15"}
    contract = make_contract(currency="JPY", one_time=[entry])
    assert contract.charges[0].amount == D("500000")


def test_r_contract_5_usd_hardware_amount_beyond_cents_rejected(make_contract_dict, problems_of):
    entry = {"description": "Edge", "amount": "4000.005", "shipped_at": "2026-02-03"}
    assert columns(problems_of(make_contract_dict(hardware=[entry]))) == {"hardware[0].amount"}


@pytest.mark.parametrize("tier", ["CX1", "CX2", "CX3"])
def test_r_contract_5_missing_overage_price_rejected(make_contract_dict, problems_of, tier):
    obj = make_contract_dict()
    del obj["prices"][tier]["overage"]
    assert columns(problems_of(obj)) == {f"prices.{tier}.overage"}


def test_r_contract_5_missing_tier_entirely_rejected(make_contract_dict, problems_of):
    obj = prices_with(make_contract_dict(), "CX3")
    assert columns(problems_of(obj)) == {"prices.CX3.overage"}


def test_r_contract_5_hourly_needs_hourly_price_not_overage(make_contract, make_contract_dict):
    obj = make_contract_dict(license_model="hourly")
    for tier in ("CX1", "CX2", "CX3"):
        obj["prices"][tier] = {"hourly": obj["prices"][tier]["hourly"]}
    contract, _ = parse_contract(json.dumps(obj).encode(), "acme-us")
    assert contract.price("CX1", "overage") is None
    del obj["prices"]["CX3"]["hourly"]
    with pytest.raises(Rejected) as info:
        parse_contract(json.dumps(obj).encode(), "acme-us")
    assert columns(info.value.problems) == {"prices.CX3.hourly"}


def test_r_contract_5_committed_tier_without_prepay_rejected(make_contract_dict, problems_of):
    obj = make_contract_dict(commitments={"CX2": 5})
    del obj["prices"]["CX2"]["prepay"]
    assert columns(problems_of(obj)) == {"prices.CX2.prepay"}


def test_r_contract_5_uncommitted_tier_needs_no_prepay(make_contract, make_contract_dict):
    obj = make_contract_dict(commitments={"CX2": 5})
    del obj["prices"]["CX1"]["prepay"]
    contract, _ = parse_contract(json.dumps(obj).encode(), "acme-us")
    assert contract.price("CX1", "prepay") is None


def test_r_contract_5_add_on_price_optional(make_contract_dict):
    obj = make_contract_dict()
    del obj["prices"]["DIGITAL"]
    obj["prices"]["WEM"] = {}
    contract, _ = parse_contract(json.dumps(obj).encode(), "acme-us")
    assert contract.price("DIGITAL", "overage") is None
    assert contract.price("WEM", "overage") is None


@pytest.mark.parametrize("entry", [5, None, "overage", ["90.00"]])
def test_r_contract_9_price_entry_of_wrong_type_rejected(make_contract_dict, problems_of, entry):
    obj = prices_with(make_contract_dict(commitments={"CX1": 2}), "CX1", entry)
    assert columns(problems_of(obj)) == {"prices.CX1"}


# --- R-contract-9: unknown keys and bounds --------------------------------------------------------


def test_r_contract_9_unknown_top_level_key_rejected(make_contract_dict, problems_of):
    problems = problems_of(make_contract_dict(comitments={"CX2": 20}))
    assert [(p.column, p.value) for p in problems] == [("comitments", '{"CX2": 20}')]


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"commitments": {"CX4": 1}}, "commitments.CX4"),
        (
            {"resources": {"ivr_minutes": {"included": "1", "rates": "0.1"}}},
            "resources.ivr_minutes.rates",
        ),  # noqa: E501
        ({"resources": {"minutes": {"rate": "0.1"}}}, "resources.minutes"),
        ({"devices": {"phone": {"monthly": "1", "setup": "1"}}}, "devices.phone.setup"),
        ({"numbers": {"did": {"monthly": "1", "yearly": "1"}}}, "numbers.did.yearly"),
        ({"telco": {"surcharge": "0.01"}}, "telco.surcharge"),
        ({"taxes": [{"name": "VAT", "rate": "0.2", "country": "GB"}]}, "taxes[0].country"),
        (
            {"one_time": [{"description": "x", "amount": "1", "date": "2026-01-15", "qty": 1}]},
            "one_time[0].qty",
        ),
    ],
)
def test_r_contract_9_unknown_nested_key_rejected(
    make_contract_dict, problems_of, overrides, column
):
    assert column in columns(problems_of(make_contract_dict(**overrides)))


def test_r_contract_9_unknown_price_kind_rejected(make_contract_dict, problems_of):
    obj = make_contract_dict()
    obj["prices"]["CX1"]["prepaid"] = "75.00"
    obj["prices"]["DIGITAL"]["prepay"] = "10.00"
    assert columns(problems_of(obj)) == {"prices.CX1.prepaid", "prices.DIGITAL.prepay"}


@pytest.mark.parametrize("day", ["1999-12-31", "2100-01-01", "2026-02-30", "2026-1-15", "", 2026])
def test_r_contract_9_activation_date_out_of_range_rejected(make_contract_dict, problems_of, day):
    assert columns(problems_of(make_contract_dict(activation_date=day))) == {"activation_date"}


@pytest.mark.parametrize("day", ["2000-01-01", "2099-12-31", "2028-02-29"])
def test_r_contract_9_activation_date_bounds_accepted(make_contract, day):
    assert make_contract(activation_date=day).activation_date == date.fromisoformat(day)


@pytest.mark.parametrize("days", [366, -1, "30", True, 30.0, None])
def test_r_contract_9_payment_terms_days_rejected(make_contract_dict, problems_of, days):
    assert columns(problems_of(make_contract_dict(payment_terms_days=days))) == {
        "payment_terms_days"
    }


@pytest.mark.parametrize("days", [0, 365])
def test_r_contract_9_payment_terms_days_bounds(make_contract, days):
    assert make_contract(payment_terms_days=days).payment_terms_days == days


@pytest.mark.parametrize("ramp", [37, -1, "2", False])
def test_r_contract_9_ramp_periods_rejected(make_contract_dict, problems_of, ramp):
    assert columns(problems_of(make_contract_dict(ramp_periods=ramp))) == {"ramp_periods"}


def test_r_contract_9_ramp_periods_36_accepted(make_contract):
    assert make_contract(ramp_periods=36).ramp_periods == 36


@pytest.mark.parametrize("units", [1_000_001, "3", -1, 2.5, True, None])
def test_r_contract_9_commitment_rejected(make_contract_dict, problems_of, units):
    obj = make_contract_dict(commitments={"CX2": units})
    assert columns(problems_of(obj)) == {"commitments.CX2"}


def test_r_contract_9_commitment_1_000_000_accepted(make_contract):
    assert make_contract(commitments={"CX3": 1_000_000}).committed("CX3") == 1_000_000


@pytest.mark.parametrize("region", ["US-East", "us-east", "useast1", "us-east-1a", "u-east-1", ""])
def test_r_contract_9_region_not_an_aws_region_rejected(make_contract_dict, problems_of, region):
    assert columns(problems_of(make_contract_dict(region=region))) == {"region"}


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1"])
def test_r_contract_9_region_names_accepted(make_contract, region):
    assert make_contract(region=region).region == region


@pytest.mark.parametrize(
    ("overrides", "column"),
    [
        ({"ramp_license_billing": "partial"}, "ramp_license_billing"),
        ({"default_tier": "CX4"}, "default_tier"),
        ({"trial": "false"}, "trial"),
        ({"partner": ""}, "partner"),
        ({"partner": 3}, "partner"),
        ({"billing_address": []}, "billing_address"),
        ({"billing_address": "1 Main St"}, "billing_address"),
        ({"name": ""}, "name"),
        ({"taxes": {"name": "VAT"}}, "taxes"),
        ({"taxes": [{"name": "VAT", "rate": "1.5"}]}, "taxes[0].rate"),
        ({"one_time": {"amount": "1"}}, "one_time"),
        ({"hardware": [{"description": "Edge", "amount": "1"}]}, "hardware[0].shipped_at"),
        ({"one_time": [{"amount": "1", "date": "2026-01-15"}]}, "one_time[0].description"),
    ],
)
def test_r_contract_9_other_fields_type_checked(make_contract_dict, problems_of, overrides, column):
    assert column in columns(problems_of(make_contract_dict(**overrides)))


def test_r_contract_missing_required_key_rejected(make_contract_dict, problems_of):
    problems = problems_of(make_contract_dict(drop=("currency", "prices")))
    assert columns(problems) == {"currency", "prices"}


def test_r_contract_7_every_problem_listed(make_contract_dict, problems_of):
    obj = make_contract_dict(currency="XYZ", region="US-East", payment_terms_days=366)
    assert columns(problems_of(obj)) == {"currency", "region", "payment_terms_days"}


# --- R-contract-9: the file -----------------------------------------------------------------------


def test_r_contract_9_file_up_to_one_mib(make_contract_dict):
    data = json.dumps(make_contract_dict()).encode()
    padded = data[:-1] + b" " * (MAX_CONTRACT_BYTES - len(data)) + b"}"
    assert len(padded) == MAX_CONTRACT_BYTES
    parse_contract(padded, "acme-us")
    with pytest.raises(Rejected) as info:
        parse_contract(padded[:-1] + b" }", "acme-us")
    assert "larger than" in info.value.problems[0].message


@pytest.mark.parametrize("text", [b"[]", b'"acme"', b"null", b"42", b"[{}]"])
def test_r_contract_9_not_an_object_rejected(text):
    with pytest.raises(Rejected, match="one JSON object"):
        parse_contract(text, "acme-us")


@pytest.mark.parametrize(
    "data",
    [b"", b"   \n", b"\xef\xbb\xbf", b"{", b'{"org_id": "acme-us",}', b"\xff\xfe{}", b"{} {}"],
)
def test_r_contract_9_not_json_rejected(data):
    with pytest.raises(Rejected):
        parse_contract(data, "acme-us")


def test_r_contract_9_invalid_json_names_line_and_column():
    with pytest.raises(Rejected) as info:
        parse_contract(b'{\n  "org_id": "acme-us",\n  oops\n}', "acme-us")
    problem = info.value.problems[0]
    assert (problem.line, problem.column) == (3, "3")


def test_r_contract_9_pathological_json_is_rejected_not_a_crash():
    with pytest.raises(Rejected):
        parse_contract(b"[" * 200_000 + b"]" * 200_000, "acme-us")
    with pytest.raises(Rejected):
        parse_contract(b'{"ramp_periods": ' + b"9" * 5000 + b"}", "acme-us")


def test_r_once_1_identical_entries_are_one(make_contract):
    entry = {"description": "Enablement", "amount": "5000.00", "date": "2026-01-15"}
    changed = {**entry, "amount": "5500.00"}
    contract = make_contract(one_time=[entry, dict(entry), changed])
    assert [c.amount for c in contract.charges] == [D("5000.00"), D("5500.00")]
    assert len({c.identity for c in contract.charges}) == 2


# --- R-contract-9: wrong JSON types never crash ---------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(["", "CX1", "95.00", "2026-01-15", "us-east-1", "USD", "named", "-1"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

TOP_LEVEL_KEYS = [
    "org_id",
    "name",
    "billing_address",
    "region",
    "currency",
    "activation_date",
    "license_model",
    "subscription",
    "ramp_periods",
    "ramp_license_billing",
    "default_tier",
    "commitments",
    "prices",
    "resources",
    "devices",
    "numbers",
    "telco",
    "one_time",
    "hardware",
    "taxes",
    "payment_terms_days",
    "partner",
    "trial",
]
PATHS = [(key,) for key in TOP_LEVEL_KEYS] + [
    ("prices", "CX1"),
    ("prices", "CX2", "prepay"),
    ("prices", "DIGITAL"),
    ("prices", "WEM", "overage"),
    ("commitments", "CX2"),
    ("resources", "ivr_minutes"),
    ("resources", "ivr_minutes", "included"),
    ("devices", "physical_edge", "monthly"),
    ("numbers", "did"),
    ("telco", "short_call_surcharge"),
    ("one_time", 0),
    ("one_time", 0, "amount"),
    ("one_time", 0, "date"),
    ("hardware", 0, "description"),
    ("taxes", 0),
    ("taxes", 0, "rate"),
    ("billing_address", 1),
]


def set_path(obj, path, value):
    for step in path[:-1]:
        obj = obj[step]
    obj[path[-1]] = value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), value=json_values, model=st.sampled_from(["named", "hourly"]))
def test_r_contract_9_any_json_value_in_any_field_parses_or_is_rejected(
    spec_contract, path, value, model
):
    obj = copy.deepcopy(spec_contract)
    obj["license_model"] = model
    if model == "hourly":
        obj["commitments"] = {}
    set_path(obj, path, value)
    data = json.dumps(obj).encode()
    try:
        contract, parsed = parse_contract(data, "acme-us")
    except Rejected as e:
        assert e.problems and all(p.message for p in e.problems)
        json.dumps([p.as_json() for p in e.problems])  # the report can be written
    else:
        assert parsed == json.loads(data)
        assert contract.org_id == "acme-us"


@settings(max_examples=100, deadline=None)
@given(value=json_values)
def test_r_contract_9_any_json_document_parses_or_is_rejected(value):
    with pytest.raises(Rejected):
        parse_contract(json.dumps(value).encode(), "acme-us")
