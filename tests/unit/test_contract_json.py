"""R-contract-10: a contract's JSON is read strictly. A key repeated within one object, NaN and
Infinity, and nesting deeper than 32 levels are errors, reported like every contract problem."""

from __future__ import annotations

import json

import pytest

from cxbill.domain import strict_json
from cxbill.domain.contract import parse_contract
from cxbill.domain.problems import Rejected


def where(problems) -> list[tuple]:
    return [(p.column, p.value) for p in problems]


def spliced(base: dict, marker: str, raw: str) -> bytes:
    """The JSON of `base` with the string "<marker>" replaced by raw JSON text."""
    return json.dumps(base).replace(json.dumps(marker), raw).encode()


def nested(depth: int) -> str:
    """`depth` levels of JSON containers, alternating objects and arrays, with 1 at the bottom."""
    text = "1"
    for level in range(depth):
        text = f'{{"a": {text}}}' if level % 2 else f"[{text}]"
    return text


def test_r_contract_10_repeated_top_level_key_rejected(make_contract_dict, problems_of):
    data = spliced(make_contract_dict(currency="X"), "X", '"USD", "currency": "EUR"')
    problems = problems_of(data)
    assert where(problems) == [("currency", None)]
    assert "more than once" in problems[0].message
    assert "R-contract-10" in problems[0].message


def test_r_contract_10_repeated_nested_key_named_by_its_path(make_contract_dict, problems_of):
    obj = make_contract_dict()
    obj["prices"]["CX1"] = {"prepay": "75.00", "overage": "X"}
    data = spliced(obj, "X", '"90.00", "overage": "0.00"')
    assert where(problems_of(data)) == [("prices.CX1.overage", None)]


def test_r_contract_10_repeated_key_inside_a_list_named_by_its_path(
    make_contract_dict, problems_of
):
    obj = make_contract_dict(
        one_time=[{"description": "X", "amount": "1.00", "date": "2026-01-15"}]
    )
    data = spliced(obj, "X", '"Setup", "description": "Other"')
    assert where(problems_of(data)) == [("one_time[0].description", None)]


def test_r_contract_10_every_repeated_key_listed_once(make_contract_dict, problems_of):
    obj = make_contract_dict(name="X")
    data = spliced(obj, "X", '"A", "name": "B", "name": "C", "region": "us-east-1"')
    assert where(problems_of(data)) == [("name", None), ("region", None)]


def test_r_contract_10_same_key_in_different_objects_is_fine(make_contract):
    contract = make_contract()  # "overage" is in every product's prices
    assert contract.org_id == "acme-us"


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_r_contract_10_nan_and_infinity_rejected_at_their_path(
    make_contract_dict, problems_of, constant
):
    data = spliced(make_contract_dict(payment_terms_days="X"), "X", constant)
    problems = problems_of(data)
    assert where(problems) == [("payment_terms_days", constant)]
    assert "not a JSON number" in problems[0].message


def test_r_contract_10_nan_in_a_nested_list(make_contract_dict, problems_of):
    data = spliced(make_contract_dict(billing_address=["a", "X"]), "X", "NaN")
    assert where(problems_of(data)) == [("billing_address[1]", "NaN")]


def test_r_contract_10_nan_inside_a_string_is_just_text(make_contract):
    assert make_contract(name="NaN Infinity").name == "NaN Infinity"


def test_r_contract_10_nesting_of_32_levels_is_read():
    assert strict_json.loads(nested(32)) is not None


def test_r_contract_10_nesting_deeper_than_32_levels_rejected(make_contract_dict, problems_of):
    # the contract object is level 1, so the value of a key holds at most 31 more
    data = spliced(make_contract_dict(hardware="X"), "X", nested(32))
    problems = problems_of(data)
    assert len(problems) == 1
    assert "deeper than 32 levels" in problems[0].message
    assert problems[0].column is not None and problems[0].column.startswith("hardware")


def test_r_contract_10_within_the_depth_limit_falls_to_the_usual_checks(
    make_contract_dict, problems_of
):
    data = spliced(make_contract_dict(hardware="X"), "X", nested(31))
    problems = problems_of(data)
    assert all("deeper" not in p.message for p in problems)


def test_r_contract_10_very_deep_nesting_rejected_not_a_crash(problems_of):
    problems = problems_of(b"[" * 100_000 + b"]" * 100_000)
    assert "deeper than 32 levels" in problems[0].message


def test_r_contract_10_problems_listed_together(make_contract_dict, problems_of):
    obj = make_contract_dict(name="X", payment_terms_days="Y")
    data = json.dumps(obj).replace('"X"', '"A", "name": "B"').replace('"Y"', "Infinity")
    assert where(problems_of(data.encode())) == [
        ("name", None),
        ("payment_terms_days", "Infinity"),
    ]


def test_r_contract_10_malformed_json_still_names_line_and_column(problems_of):
    (problem,) = problems_of(b'{\n  "org_id": "acme-us",\n  "name": }\n')
    assert (problem.line, problem.column) == (3, "11")
    assert "invalid JSON" in problem.message


def test_r_contract_10_a_valid_contract_is_unchanged(spec_contract):
    contract, raw = parse_contract(json.dumps(spec_contract).encode(), "acme-us")
    assert raw == spec_contract
    assert type(raw) is dict and all(type(v) is dict for v in raw.values() if isinstance(v, dict))
    assert contract.org_id == "acme-us"


def test_r_contract_10_rejection_is_the_usual_report(make_contract_dict):
    data = spliced(make_contract_dict(currency="X"), "X", '"USD", "currency": "USD"')
    with pytest.raises(Rejected) as info:
        parse_contract(data, "acme-us")
    assert info.value.problems[0].as_json() == {
        "message": info.value.problems[0].message,
        "line": None,
        "column": "currency",
        "value": None,
    }
