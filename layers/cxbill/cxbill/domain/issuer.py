"""The seller on invoices (R-pdf-3): `config/issuer.json` and `config/issuer-<CUR>.json`,
validated whole like a contract (strict keys, bounds, types, R-contract-10's strict JSON), and
which one is in force for an invoice's currency.

An issuer document is

    {"legal_name": str, "address": [str, ...], "tax_id": str, "email": str,
     "remittance": [str, ...], "currencies": [code, ...]}        # currencies may be absent

A per-currency file takes precedence for its currency; the general file serves every currency
when its `currencies` is absent, else only those it lists. The one in force when an invoice is
issued is copied into the invoice document, so a later upload changes later invoices only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from . import strict_json
from .money import CURRENCIES
from .problems import Problem, Rejected

MAX_ISSUER_BYTES = 64 << 10
MAX_TEXT_CHARS = 200  # a name, an address or remittance line
MAX_TAX_ID_CHARS = 64
MAX_EMAIL_CHARS = 254
MAX_LINES = 8  # address and remittance lines each

ISSUER_KEY = re.compile(r"config/issuer(?:-(?P<currency>[^/]*))?\.json")
_KEYS = ("legal_name", "address", "tax_id", "email", "remittance", "currencies")
_REQUIRED = ("legal_name", "address", "tax_id", "email", "remittance")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Issuer:
    """The seller as an invoice shows it."""

    legal_name: str
    address: tuple[str, ...]
    tax_id: str
    email: str
    remittance: tuple[str, ...]
    currencies: tuple[str, ...] | None = None  # None: every currency (the general file)

    def serves(self, currency: str) -> bool:
        return self.currencies is None or currency in self.currencies

    def as_json(self) -> dict[str, Any]:
        """The document's JSON; `currencies` only when the issuer is limited to some. An
        invoice's copy (`for_invoice`) has none: the invoice record's `issuer` is the seller
        alone (R-pdf-3)."""
        found: dict[str, Any] = {
            "legal_name": self.legal_name,
            "address": list(self.address),
            "tax_id": self.tax_id,
            "email": self.email,
            "remittance": list(self.remittance),
        }
        if self.currencies is not None:
            found["currencies"] = list(self.currencies)
        return found

    def for_invoice(self) -> Issuer:
        """The seller as an invoice keeps it: without the file's scope."""
        return replace(self, currencies=None)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Issuer:
        """A stored (already validated) issuer, or one copied into an invoice document."""
        currencies = obj.get("currencies")
        return cls(
            legal_name=obj["legal_name"],
            address=tuple(obj.get("address", ())),
            tax_id=obj.get("tax_id", ""),
            email=obj.get("email", ""),
            remittance=tuple(obj.get("remittance", ())),
            currencies=None if currencies is None else tuple(currencies),
        )


def issuer_in_force(currency: str, stored: Callable[[str | None], Issuer | None]) -> Issuer | None:
    """The seller of an invoice in `currency`: the per-currency issuer if one is stored, else
    the general one if it serves the currency, else none (`stored(scope)` reads the latest
    upload of a scope: a currency code, or None for the general file)."""
    own = stored(currency)
    if own is not None:
        return own
    general = stored(None)
    return general if general is not None and general.serves(currency) else None


def parse_issuer(data: bytes, currency_of_key: str | None = None) -> Issuer:
    """Validate an issuer file whole: the issuer, or Rejected listing every problem (each named
    by its JSON path in `column`). `currency_of_key`: the `<CUR>` of config/issuer-<CUR>.json."""
    problems: list[Problem] = []
    if currency_of_key is not None and currency_of_key not in CURRENCIES:
        problems.append(
            Problem(
                f"config/issuer-<CUR>.json names an accepted currency "
                f"({', '.join(sorted(CURRENCIES))}), not {currency_of_key!r}",
                value=currency_of_key[:40],
            )
        )
        raise Rejected(problems)
    obj = strict_json.read_object(data, MAX_ISSUER_BYTES, "an issuer file")
    checker = _Checker()
    issuer = checker.issuer(obj, currency_of_key)
    if checker.problems:
        raise Rejected(checker.problems)
    assert issuer is not None
    return issuer


class _Checker:
    """Collects every problem of an issuer file instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, value: Any, message: str) -> None:
        shown = value if isinstance(value, str) else json.dumps(value)
        self.problems.append(Problem(message, column=path, value=shown[:200]))

    def issuer(self, obj: dict, currency_of_key: str | None) -> Issuer | None:
        for key in sorted(set(obj) - set(_KEYS)):
            self.fail(key, obj[key], f"unknown key {key!r}")
        for key in _REQUIRED:
            if key not in obj:
                self.fail(key, None, f"missing required key {key!r}")
        if self.problems:
            return None
        legal_name = self.text(obj["legal_name"], "legal_name", MAX_TEXT_CHARS)
        address = self.lines(obj["address"], "address")
        tax_id = self.text(obj["tax_id"], "tax_id", MAX_TAX_ID_CHARS)
        email = self.text(obj["email"], "email", MAX_EMAIL_CHARS)
        if email is not None and not _EMAIL.fullmatch(email):
            self.fail("email", email, "email is an address like billing@example.com")
        remittance = self.lines(obj["remittance"], "remittance")
        currencies = self.currencies(obj.get("currencies"), currency_of_key)
        if self.problems:
            return None
        assert legal_name and address and tax_id and email and remittance
        return Issuer(legal_name, address, tax_id, email, remittance, currencies)

    def text(self, value: Any, path: str, limit: int) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, value, f"{path} is a non-empty string")
            return None
        if len(value) > limit:
            self.fail(path, value, f"{path} is at most {limit} characters")
            return None
        if _CONTROL.search(value):
            self.fail(path, value, f"{path} holds no control characters or line breaks")
            return None
        return value

    def lines(self, value: Any, path: str) -> tuple[str, ...] | None:
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_LINES:
            self.fail(path, value, f"{path} is a list of 1 … {MAX_LINES} strings")
            return None
        lines = [self.text(line, f"{path}[{i}]", MAX_TEXT_CHARS) for i, line in enumerate(value)]
        return None if any(line is None for line in lines) else tuple(lines)  # type: ignore[arg-type]

    def currencies(self, value: Any, currency_of_key: str | None) -> tuple[str, ...] | None:
        if value is None:
            return None
        accepted = ", ".join(sorted(CURRENCIES))
        if not isinstance(value, list) or not value:
            self.fail("currencies", value, "currencies is absent or a non-empty list of codes")
            return None
        codes: list[str] = []
        for i, code in enumerate(value):
            if not isinstance(code, str) or code not in CURRENCIES:
                self.fail(f"currencies[{i}]", code, f"currencies are among {accepted}")
            elif code in codes:
                self.fail(f"currencies[{i}]", code, f"{code} is listed more than once")
            else:
                codes.append(code)
        if currency_of_key is not None and currency_of_key not in codes:
            self.fail(
                "currencies",
                value,
                f"config/issuer-{currency_of_key}.json serves {currency_of_key}: its currencies "
                f"must include it (or be absent)",
            )
        return tuple(codes)
