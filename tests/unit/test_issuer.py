"""R-pdf-3: the issuer document, validated like a contract, and which one is in force."""

from __future__ import annotations

import json

import pytest

from cxbill.domain.issuer import (
    ISSUER_KEY,
    MAX_ISSUER_BYTES,
    Issuer,
    issuer_in_force,
    parse_issuer,
)
from cxbill.domain.problems import Rejected

ISSUER = {
    "legal_name": "Cloud CX Billing Inc.",
    "address": ["500 Harbor Blvd", "Suite 900", "Boston, MA 02110", "USA"],
    "tax_id": "US EIN 12-3456789",
    "email": "billing@cxbill.example",
    "remittance": ["Bank: First Demo Bank, ACH routing 021000021", "Account 000123456789"],
}


def parse(obj: object, currency: str | None = None) -> Issuer:
    return parse_issuer(json.dumps(obj, ensure_ascii=False).encode(), currency)


def problems(obj: object | bytes, currency: str | None = None) -> list[tuple[str | None, str]]:
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    with pytest.raises(Rejected) as rejected:
        parse_issuer(data, currency)
    return [(p.column, p.message) for p in rejected.value.problems]


def test_r_pdf_3_a_valid_issuer_reads_whole():
    issuer = parse(ISSUER)
    assert issuer.legal_name == "Cloud CX Billing Inc."
    assert issuer.address == tuple(ISSUER["address"])
    assert issuer.remittance == tuple(ISSUER["remittance"])
    assert issuer.currencies is None
    assert issuer.as_json() == ISSUER
    assert Issuer.from_json(issuer.as_json()) == issuer


def test_r_pdf_3_every_script_and_a_byte_order_mark_are_accepted():
    japanese = dict(
        ISSUER, legal_name="株式会社シーエックス", address=["東京都千代田区丸の内1-1-1"]
    )
    data = b"\xef\xbb\xbf" + json.dumps(japanese, ensure_ascii=False).encode()
    assert parse_issuer(data).legal_name == "株式会社シーエックス"


def test_r_pdf_3_unknown_and_missing_keys_are_rejected_at_their_path():
    found = problems({**ISSUER, "iban": "DE00", "legal_nmae": "x"})
    assert ("iban", "unknown key 'iban'") in found
    assert ("legal_nmae", "unknown key 'legal_nmae'") in found
    missing = {k: v for k, v in ISSUER.items() if k != "tax_id"}
    assert problems(missing) == [("tax_id", "missing required key 'tax_id'")]


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"legal_name": 7}, "legal_name"),
        ({"legal_name": "x" * 201}, "legal_name"),
        ({"legal_name": "Two\nlines"}, "legal_name"),
        ({"address": "1 Main St"}, "address"),
        ({"address": []}, "address"),
        ({"address": ["ok"] * 9}, "address"),
        ({"address": ["ok", None]}, "address[1]"),
        ({"tax_id": "x" * 65}, "tax_id"),
        ({"email": "billing at example"}, "email"),
        ({"remittance": [{"bank": "x"}]}, "remittance[0]"),
        ({"currencies": []}, "currencies"),
        ({"currencies": "USD"}, "currencies"),
        ({"currencies": ["usd"]}, "currencies[0]"),
        ({"currencies": ["XXX"]}, "currencies[0]"),
        ({"currencies": ["USD", "USD"]}, "currencies[1]"),
    ],
)
def test_r_pdf_3_bounds_and_types_are_checked(change, column):
    assert column in [c for c, _ in problems({**ISSUER, **change})]


def test_r_pdf_3_every_problem_is_reported_not_just_the_first():
    found = problems({**ISSUER, "legal_name": "", "email": "nope", "currencies": ["XXX"]})
    assert [c for c, _ in found] == ["legal_name", "email", "currencies[0]"]


def test_r_contract_10_strict_json_applies_to_issuers():
    repeated = b'{"legal_name": "A", "legal_name": "B"}'
    assert problems(repeated)[0][0] == "legal_name"
    assert "not a JSON number" in problems(b'{"legal_name": NaN}')[0][1]
    deep = b'{"address": ' + b"[" * 40 + b"]" * 40 + b"}"
    assert "nested deeper" in problems(deep)[0][1]
    assert "invalid JSON" in problems(b'{"legal_name": ')[0][1]
    assert problems(b"[]") == [(None, "an issuer file is one JSON object")]
    assert "not UTF-8" in problems(b'{"legal_name": "\xff"}')[0][1]
    assert problems(b"   ") == [(None, "empty file")]
    assert "at most" in problems(b" " * (MAX_ISSUER_BYTES + 1))[0][1]


def test_r_pdf_3_a_per_currency_file_names_an_accepted_currency_it_serves():
    assert parse(ISSUER, "JPY").currencies is None
    assert parse({**ISSUER, "currencies": ["JPY"]}, "JPY").currencies == ("JPY",)
    assert "accepted currency" in problems(ISSUER, "XYZ")[0][1]
    assert "must include it" in problems({**ISSUER, "currencies": ["USD"]}, "JPY")[0][1]


def test_r_pdf_3_issuer_keys():
    assert ISSUER_KEY.fullmatch("config/issuer.json")["currency"] is None
    assert ISSUER_KEY.fullmatch("config/issuer-JPY.json")["currency"] == "JPY"
    assert ISSUER_KEY.fullmatch("config/issuer-.json")["currency"] == ""
    assert ISSUER_KEY.fullmatch("config/issuers.json") is None
    assert ISSUER_KEY.fullmatch("config/x/issuer.json") is None


def test_r_pdf_3_the_per_currency_issuer_takes_precedence_over_the_general_one():
    general = Issuer.from_json(ISSUER)
    japan = Issuer.from_json({**ISSUER, "legal_name": "CX Japan KK"})
    stored = {None: general, "JPY": japan}
    assert issuer_in_force("JPY", stored.get) == japan
    assert issuer_in_force("USD", stored.get) == general


def test_r_pdf_3_a_general_issuer_with_currencies_serves_only_those():
    limited = Issuer.from_json({**ISSUER, "currencies": ["USD", "CAD"]})
    assert issuer_in_force("CAD", {None: limited}.get) == limited
    assert issuer_in_force("EUR", {None: limited}.get) is None
    assert issuer_in_force("EUR", {}.get) is None


def test_r_pdf_3_an_invoice_keeps_the_seller_without_the_files_scope():
    limited = Issuer.from_json({**ISSUER, "currencies": ["USD"]})
    assert limited.as_json()["currencies"] == ["USD"]
    assert "currencies" not in limited.for_invoice().as_json()
    assert limited.for_invoice().as_json() == ISSUER
