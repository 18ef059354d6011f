"""Contracts: the org's commercial terms, validated whole (R-contract-1..9)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from . import strict_json
from .licensing import LICENSE_MODELS, LicenseTerms
from .licensing.tiers import ADD_ONS, TIERS
from .money import CURRENCIES, MINOR_UNITS, RATE_PLACES
from .problems import Problem, Rejected

SUBSCRIPTIONS = ("monthly", "annual_monthly", "annual_prepay")
RESOURCE_TYPES = ("ivr_minutes", "storage_gb", "sms_messages", "api_requests", "byoc_minutes")
DEVICE_TYPES = ("physical_edge", "virtual_edge", "phone")
NUMBER_TYPES = ("did", "toll_free")
MAX_CONTRACT_BYTES = 1 << 20
MAX_COMMITMENT = 1_000_000

_ORG_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,62}")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
_DECIMAL = re.compile(r"\d+(\.\d+)?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

_KEYS = {
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
}
_REQUIRED = (
    "org_id",
    "name",
    "region",
    "currency",
    "activation_date",
    "license_model",
    "subscription",
    "prices",
)


@dataclass(frozen=True)
class Charge:
    """A one-time or hardware entry, billed once on its date (R-once-1)."""

    kind: str  # "one_time" | "hardware"
    description: str
    amount: Decimal
    day: date

    @property
    def identity(self) -> str:
        return f"{self.kind}|{self.day.isoformat()}|{self.amount.normalize()}|{self.description}"


@dataclass(frozen=True)
class Tax:
    name: str
    rate: Decimal


@dataclass(frozen=True)
class Contract:
    org_id: str
    name: str
    billing_address: tuple[str, ...]
    region: str
    currency: str
    activation_date: date
    license_model: str
    subscription: str
    prices: dict[str, dict[str, Decimal]]
    ramp_periods: int = 0
    ramp_license_billing: str = "none"
    default_tier: str = "CX1"
    commitments: dict[str, int] = field(default_factory=dict)
    resources: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    devices: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    numbers: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    telco: dict[str, Decimal] = field(default_factory=dict)
    charges: tuple[Charge, ...] = ()
    taxes: tuple[Tax, ...] = ()
    payment_terms_days: int = 30
    partner: str | None = None
    trial: bool = False

    def committed(self, tier: str) -> int:
        return self.commitments.get(tier, 0)

    def price(self, product: str, kind: str) -> Decimal | None:
        return self.prices.get(product, {}).get(kind)


def parse_contract(data: bytes, org_id_of_key: str | None = None) -> tuple[Contract, dict]:
    """Validate a contract file whole: the contract and its JSON object, or Rejected."""
    obj = strict_json.read_object(data, MAX_CONTRACT_BYTES, "a contract")
    checker = _Checker()
    contract = checker.contract(obj, org_id_of_key)
    if checker.problems:
        raise Rejected(checker.problems)
    assert contract is not None
    return contract, obj


def contract_from_json(obj: dict) -> Contract:
    """A stored (already validated) contract."""
    return parse_contract(json.dumps(obj).encode())[0]


class _Checker:
    """Collects every problem of a contract instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, value: Any, message: str) -> None:
        shown = value if isinstance(value, str) else json.dumps(value)[:200]
        self.problems.append(Problem(message, column=path, value=shown))

    def contract(self, obj: dict, org_id_of_key: str | None) -> Contract | None:
        for key in sorted(set(obj) - _KEYS):
            self.fail(key, obj[key], f"unknown key {key!r}")
        for key in _REQUIRED:
            if key not in obj:
                self.fail(key, None, f"missing required key {key!r}")
        if self.problems:
            return None
        org_id = self.text(obj, "org_id")
        if org_id is not None and not _ORG_ID.fullmatch(org_id):
            self.fail("org_id", org_id, "org_id must match ^[a-z0-9][a-z0-9-]{1,62}$")
        elif org_id_of_key is not None and org_id != org_id_of_key:
            self.fail("org_id", org_id, f"org_id differs from the key's org {org_id_of_key!r}")
        name = self.text(obj, "name")
        region = self.text(obj, "region")
        if region is not None and not _REGION.fullmatch(region):
            self.fail("region", region, "not an AWS region name")
        currency = self.choice(obj, "currency", CURRENCIES)
        model = self.choice(obj, "license_model", LICENSE_MODELS)
        subscription = self.choice(obj, "subscription", SUBSCRIPTIONS)
        activation = self.day(obj, "activation_date", "activation_date")
        if activation is not None and not date(2000, 1, 1) <= activation <= date(2099, 12, 31):
            self.fail("activation_date", obj["activation_date"], "outside 2000-01-01 … 2099-12-31")
        address = obj.get("billing_address", [name])
        if not (isinstance(address, list) and address and all(isinstance(a, str) for a in address)):
            self.fail("billing_address", address, "billing_address is a non-empty list of strings")
        ramp = self.integer(obj, "ramp_periods", 0, 0, 36)
        terms = self.integer(obj, "payment_terms_days", 30, 0, 365)
        ramp_billing = self.choice(obj, "ramp_license_billing", ("none", "actual"), "none")
        default_tier = self.choice(obj, "default_tier", TIERS, "CX1")
        commitments = self.commitments(obj.get("commitments", {}))
        prices = self.prices(obj["prices"])
        if model is not None:
            self.license_terms(model, obj.get("commitments", {}), commitments, obj["prices"])
        resources = self.rate_table(
            obj, "resources", RESOURCE_TYPES, ("included", "rate"), {"included"}
        )
        devices = self.rate_table(obj, "devices", DEVICE_TYPES, ("monthly",))
        numbers = self.rate_table(obj, "numbers", NUMBER_TYPES, ("setup", "monthly"))
        telco = self.telco(obj.get("telco", {}))
        charges = self.charges(obj, "one_time", "date", currency) + self.charges(
            obj, "hardware", "shipped_at", currency
        )
        taxes = self.taxes(obj.get("taxes", []))
        partner = obj.get("partner")
        if partner is not None and not (isinstance(partner, str) and partner.strip()):
            self.fail("partner", partner, "partner is null or the partner's name")
        trial = obj.get("trial", False)
        if not isinstance(trial, bool):
            self.fail("trial", trial, "trial is true or false")
        if self.problems:
            return None
        # A checker returns None only after reporting a problem, so none of these is None here.
        assert org_id is not None and name is not None and region is not None
        assert currency is not None and activation is not None and model is not None
        assert subscription is not None and ramp_billing is not None and default_tier is not None
        return Contract(
            org_id=org_id,
            name=name,
            billing_address=tuple(address),
            region=region,
            currency=currency,
            activation_date=activation,
            license_model=model,
            subscription=subscription,
            prices=prices,
            ramp_periods=ramp,
            ramp_license_billing=ramp_billing,
            default_tier=default_tier,
            commitments=commitments,
            resources=resources,
            devices=devices,
            numbers=numbers,
            telco=telco,
            charges=tuple(dict.fromkeys(charges)),
            taxes=taxes,
            payment_terms_days=terms,
            partner=partner,
            trial=trial,
        )

    # -- field checkers: each reports its own problem and returns None when invalid --

    def text(self, obj: dict, key: str) -> str | None:
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(key, value, f"{key} is a non-empty string")
            return None
        return value

    def choice(self, obj: dict, key: str, allowed, default: str | None = None) -> str | None:
        value = obj.get(key, default)
        if not isinstance(value, str) or value not in allowed:  # a list or object is unhashable
            self.fail(key, value, f"{key} must be one of {', '.join(sorted(allowed))}")
            return None
        return value

    def integer(self, obj: dict, key: str, default: int, low: int, high: int) -> int:
        value = obj.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(key, value, f"{key} is an integer {low} … {high}")
            return default
        return value

    def day(self, obj: dict, key: str, path: str) -> date | None:
        value = obj.get(key)
        try:
            if not isinstance(value, str) or not _DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.fail(path, value, f"{key} is a date YYYY-MM-DD")
            return None

    def decimal(self, value: Any, path: str, places: int | None) -> Decimal | None:
        if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
            self.fail(path, value, "money values are JSON strings holding a decimal >= 0")
            return None
        amount = Decimal(value)
        if places is not None and -amount.as_tuple().exponent > places:  # type: ignore[operator]
            self.fail(path, value, f"at most {places} decimal places")
            return None
        return amount

    def mapping(self, value: Any, path: str, allowed) -> dict:
        if not isinstance(value, dict):
            self.fail(path, value, f"{path} is an object")
            return {}
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}", value[key], f"unknown key {key!r}")
        return {k: v for k, v in value.items() if k in allowed}

    def commitments(self, value: Any) -> dict[str, int]:
        commitments = self.mapping(value, "commitments", TIERS)
        result = {}
        for tier, units in commitments.items():
            if (
                isinstance(units, bool)
                or not isinstance(units, int)
                or not (0 <= units <= MAX_COMMITMENT)
            ):
                self.fail(
                    f"commitments.{tier}", units, f"a commitment is an integer 0 … {MAX_COMMITMENT}"
                )
            elif units:
                result[tier] = units
        return result

    def prices(self, value: Any) -> dict[str, dict[str, Decimal]]:
        table = self.mapping(value, "prices", TIERS + ADD_ONS)
        prices: dict[str, dict[str, Decimal]] = {}
        for product, entry in table.items():
            kinds = ("prepay", "overage", "hourly") if product in TIERS else ("overage",)
            entry = self.mapping(entry, f"prices.{product}", kinds)
            prices[product] = {}
            for kind, raw in entry.items():
                amount = self.decimal(raw, f"prices.{product}.{kind}", RATE_PLACES)
                if amount is not None:
                    prices[product][kind] = amount
        return prices

    def license_terms(
        self, model: str, commitments: Any, committed: dict[str, int], prices: Any
    ) -> None:
        """R-contract-4/5: what the license model requires of commitments and prices."""
        declared = commitments if isinstance(commitments, dict) else {}
        table = prices if isinstance(prices, dict) else {}
        terms = LicenseTerms(
            commitments_json=commitments,
            declared_commitments={t: u for t, u in declared.items() if t in TIERS},
            committed=committed,
            # An entry that is not an object was reported by mapping() already: None skips it.
            prices={p: e if isinstance(e, dict) else None for p, e in table.items()},
        )
        for problem in LICENSE_MODELS[model].term_problems(terms):
            self.fail(problem.path, problem.value, problem.message)

    def rate_table(
        self, obj: dict, key: str, names, kinds, quantities=frozenset()
    ) -> dict[str, dict[str, Decimal]]:
        table = self.mapping(obj.get(key, {}), key, names)
        result: dict[str, dict[str, Decimal]] = {}
        for name, entry in table.items():
            entry = self.mapping(entry, f"{key}.{name}", kinds)
            result[name] = {}
            for kind, raw in entry.items():
                places = None if kind in quantities else RATE_PLACES
                amount = self.decimal(raw, f"{key}.{name}.{kind}", places)
                if amount is not None:
                    result[name][kind] = amount
        return result

    def telco(self, value: Any) -> dict[str, Decimal]:
        table = self.mapping(value, "telco", ("short_call_surcharge",))
        result = {}
        for kind, raw in table.items():
            amount = self.decimal(raw, f"telco.{kind}", RATE_PLACES)
            if amount is not None:
                result[kind] = amount
        return result

    def charges(self, obj: dict, key: str, date_key: str, currency: str | None) -> list[Charge]:
        entries = obj.get(key, [])
        if not isinstance(entries, list):
            self.fail(key, entries, f"{key} is a list")
            return []
        result = []
        for i, entry in enumerate(entries):
            path = f"{key}[{i}]"
            entry = self.mapping(entry, path, ("description", "amount", date_key))
            description = self.text(entry, "description") if "description" in entry else None
            if description is None and "description" not in entry:
                self.fail(f"{path}.description", None, "missing description")
            places = MINOR_UNITS.get(currency or "", 2)
            amount = self.decimal(entry.get("amount"), f"{path}.amount", places)
            day = self.day(entry, date_key, f"{path}.{date_key}")
            if description and amount is not None and day:
                result.append(Charge(key, description, amount, day))
        return result

    def taxes(self, value: Any) -> tuple[Tax, ...]:
        if not isinstance(value, list):
            self.fail("taxes", value, "taxes is a list")
            return ()
        result = []
        for i, entry in enumerate(value):
            entry = self.mapping(entry, f"taxes[{i}]", ("name", "rate"))
            name = entry.get("name")
            if not isinstance(name, str) or not name.strip():
                self.fail(f"taxes[{i}].name", name, "a tax has a name")
            rate = self.decimal(entry.get("rate"), f"taxes[{i}].rate", None)
            if rate is not None and rate > 1:
                self.fail(f"taxes[{i}].rate", entry.get("rate"), "a tax rate is a fraction <= 1")
            elif rate is not None and isinstance(name, str):
                result.append(Tax(name, rate))
        return tuple(result)
