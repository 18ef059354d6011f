"""Contracts for the domain unit tests, built from small JSON dicts through parse_contract."""

from __future__ import annotations

import copy
import json

import pytest

from cxbill.domain.contract import Contract, parse_contract
from cxbill.domain.problems import Problem, Rejected

# The contract of SPEC section 2, verbatim.
SPEC_CONTRACT: dict = {
    "org_id": "acme-us",
    "name": "Acme Corp",
    "billing_address": ["Acme Corp", "1 Main St", "Springfield, IL 62701", "US"],
    "region": "us-east-1",
    "currency": "USD",
    "activation_date": "2026-01-15",
    "license_model": "named",
    "subscription": "monthly",
    "ramp_periods": 2,
    "ramp_license_billing": "none",
    "default_tier": "CX1",
    "commitments": {"CX2": 20},
    "prices": {
        "CX1": {"prepay": "75.00", "overage": "90.00", "hourly": "1.10"},
        "CX2": {"prepay": "95.00", "overage": "115.00", "hourly": "1.40"},
        "CX3": {"prepay": "135.00", "overage": "160.00", "hourly": "1.95"},
        "DIGITAL": {"overage": "20.00"},
        "WEM": {"overage": "30.00"},
    },
    "resources": {"ivr_minutes": {"included": "1000", "rate": "0.012"}},
    "devices": {"physical_edge": {"monthly": "250.00"}},
    "numbers": {
        "did": {"setup": "1.00", "monthly": "1.00"},
        "toll_free": {"setup": "2.00", "monthly": "2.00"},
    },
    "telco": {"short_call_surcharge": "0.01"},
    "one_time": [{"description": "Enablement package", "amount": "5000.00", "date": "2026-01-15"}],
    "hardware": [
        {"description": "Physical Edge appliance", "amount": "4000.00", "shipped_at": "2026-02-03"}
    ],
    "taxes": [{"name": "State sales tax", "rate": "0.0625"}],
    "payment_terms_days": 30,
    "partner": None,
    "trial": False,
}

# The smallest contract the tests start from: named, monthly, no ramp, no commitment, no tax.
BASE_CONTRACT: dict = {
    "org_id": "acme-us",
    "name": "Acme Corp",
    "region": "us-east-1",
    "currency": "USD",
    "activation_date": "2026-01-15",
    "license_model": "named",
    "subscription": "monthly",
    "prices": copy.deepcopy(SPEC_CONTRACT["prices"]),
}


def contract_dict(base: dict | None = None, drop: tuple[str, ...] = (), **overrides) -> dict:
    """A deep copy of `base` (BASE_CONTRACT) with top-level keys replaced and `drop` removed."""
    obj = copy.deepcopy(BASE_CONTRACT if base is None else base)
    obj.update(copy.deepcopy(overrides))
    for key in drop:
        obj.pop(key, None)
    return obj


def build_contract(base: dict | None = None, drop: tuple[str, ...] = (), **overrides) -> Contract:
    obj = contract_dict(base, drop, **overrides)
    return parse_contract(json.dumps(obj).encode(), obj.get("org_id"))[0]


def contract_problems(obj, org_id_of_key: str | None = "acme-us") -> list[Problem]:
    """The problems parse_contract reports for `obj` (a dict, or raw bytes); fails if it parses."""
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    with pytest.raises(Rejected) as info:
        parse_contract(data, org_id_of_key)
    assert info.value.problems
    return info.value.problems


@pytest.fixture(scope="session")
def make_contract():
    """make_contract(**overrides) -> Contract; make_contract(base=SPEC_CONTRACT, ...) also works."""
    return build_contract


@pytest.fixture(scope="session")
def make_contract_dict():
    return contract_dict


@pytest.fixture(scope="session")
def spec_contract() -> dict:
    return copy.deepcopy(SPEC_CONTRACT)


@pytest.fixture(scope="session")
def problems_of():
    return contract_problems
