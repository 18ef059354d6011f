"""Example scenarios replayed end to end (SPEC 10): the invoices, rejections and summary they
promise. Scenarios come from tests/e2e/scenarios/ and, when the checkout sits beside it, from
../shared/examples/ (the shared copy wins a name both have)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from cxbill_local.replay import replay

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
IN_REPO = HERE / "scenarios"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "examples"


def scenarios() -> list[Path]:
    found: dict[str, Path] = {}
    for root in (IN_REPO, SHARED):  # later roots win: prefer the shared copy
        if root.is_dir():
            for scenario in sorted(root.iterdir()):
                if (scenario / "expected").is_dir() and (scenario / "UNTIL").is_file():
                    found[scenario.name] = scenario
    return [found[name] for name in sorted(found)]


def relative_files(root: Path, pattern: str) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.glob(pattern) if p.is_file()}


def without_descriptions(lines: list[dict]) -> list[dict]:
    """Lines compared by everything but their description, in no particular order."""
    kept = [{k: v for k, v in line.items() if k != "description"} for line in lines]
    return sorted(kept, key=lambda line: json.dumps(line, sort_keys=True))


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda p: p.name)
def test_examples_replay_to_expected_invoices(scenario: Path, tmp_path: Path):
    until = date.fromisoformat((scenario / "UNTIL").read_text().strip())
    expected = scenario / "expected"
    out = tmp_path / "out"

    summary = replay(scenario, until, out)

    # Every expected invoice, field by field; and no invoice that is not expected.
    want_invoices = relative_files(expected / "invoices", "*/*.json")
    assert want_invoices, f"{scenario.name}: no expected invoices"
    assert relative_files(out / "invoices", "*/*.json") == want_invoices
    for name in sorted(want_invoices):
        want = json.loads((expected / "invoices" / name).read_text(encoding="utf-8"))
        got = json.loads((out / "invoices" / name).read_text(encoding="utf-8"))
        assert set(got) == set(want), name
        for field in sorted(want):
            if field == "lines":
                assert without_descriptions(got["lines"]) == without_descriptions(want["lines"]), (
                    f"{name}: lines"
                )
            else:
                assert got[field] == want[field], f"{name}: {field}"
        assert (out / "invoices" / name).with_suffix(".pdf").is_file(), f"{name}: no PDF"

    # Exactly the listed uploads are rejected, each with its report.
    rejected_txt = expected / "rejected.txt"
    listed = rejected_txt.read_text().split() if rejected_txt.is_file() else []
    reports = relative_files(out, "rejections/**/*.json")
    assert {r.removeprefix("rejections/").removesuffix(".json") for r in reports} == set(listed)
    for key in listed:
        report = json.loads((out / "rejections" / f"{key}.json").read_text(encoding="utf-8"))
        assert report["key"] == key
        assert report["errors"]

    # summary.json: what was written, counted.
    assert json.loads((out / "summary.json").read_text()) == summary
    uploads = relative_files(scenario / "uploads", "*/**/*")
    assert summary["uploads"]["rejected"] == len(listed)
    assert sum(summary["uploads"].values()) == len(uploads)
    records = [
        json.loads((expected / "invoices" / name).read_text(encoding="utf-8"))
        for name in want_invoices
    ]
    assert summary["invoices"] == dict(Counter(r["kind"] for r in records))
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for record in records:
        if "total" in record:  # a partner's statement has none
            totals[record["org_id"]][record["currency"]] += Decimal(record["total"])
    assert {
        org: {currency: Decimal(amount) for currency, amount in by_currency.items()}
        for org, by_currency in summary["totals"].items()
    } == totals
