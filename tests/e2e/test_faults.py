"""The fault suite: crash the functions at every AWS call they make, before and after the call
takes effect, deliver duplicates, and count what must stay zero (R-ingest-3, R-ingest-7,
R-invoice-1/2, R-ops-2).

A sweep is a chaos replay whose crash points are not drawn at random but walked in order: each
invocation of a function dies at the next point of that function's list (call 1 before, call 1
after, call 2 before, ...; the list is as long as the most calls an invocation of it has made),
until every message has crashed `max_crashes` times. Each crashed batch is delivered again with
the in-progress record of the dead invocation expired (see cxbill_local/chaos.py).

The figures are printed whether or not pytest captures output (under "cxbill fault
suite"): crash points tried, duplicates and reorderings delivered, invoices
checked, and the counts that must be zero: rows lost, rows counted twice, invoice numbers
duplicated or missing, invoices without a PDF after the last run."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_chaos import SCENARIOS, Replayed, differences

from cxbill_local.chaos import Chaos, CrashPoint
from cxbill_local.replay import replay
from cxbill_local.runtime import LocalCloud

pytestmark = pytest.mark.e2e

SCENARIO = "northwind-sakura" if "northwind-sakura" in SCENARIOS else "demo"


class Sweep(Chaos):
    """Chaos whose crash points walk every call of every function in turn."""

    def __init__(self, seed: int, reorder: bool, max_crashes: int = 8):
        # one message a batch: each message walks its own crash points
        super().__init__(
            seed, duplicate_rate=0.3, max_crashes=max_crashes, max_batch=1, reorder=reorder
        )
        self.cursor: dict[str, tuple[int, bool]] = {}
        self.points: set[tuple[str, int, bool]] = set()

    def crash_point(self, name: str) -> CrashPoint | None:
        limit = max(self.stats.calls_seen[name], 1)
        call, after = self.cursor.get(name, (1, False))
        if call > limit:
            call, after = 1, False
        self.cursor[name] = (call, True) if not after else (call + 1, False)
        self.points.add((name, call, after))
        return CrashPoint(call, after)


@dataclass
class Books:
    """What the stores hold at the end: ingestion records and the ledger's invoices."""

    ingested: dict[tuple[str, int], tuple[str, int]] = field(default_factory=dict)
    numbers: Counter[str] = field(default_factory=Counter)
    without_pdf: list[str] = field(default_factory=list)


def replay_with_books(out: Path, chaos: Chaos | None) -> tuple[Replayed, Books]:
    from cxbill.adapters.models import IngestionItem, LedgerItem

    scenario, until = SCENARIOS[SCENARIO]
    books = Books()
    versions: dict[str, list[str]] = {}

    def observe(cloud: LocalCloud) -> None:
        versions.update({k: list(v) for k, v in cloud.upload_versions.items()})
        orgs = set()
        for key, made in cloud.upload_versions.items():
            for item in IngestionItem.query(key):
                ordinal = made.index(item.version) if item.version in made else -1
                books.ingested[(key, ordinal)] = (item.status, int(item.rows or 0))
            parts = key.split("/")
            if parts[0] == "usage":
                orgs.add(parts[1])
            elif parts[0] == "contracts":
                orgs.add(parts[1].removesuffix(".json"))
        for org in sorted(orgs):
            for item in LedgerItem.query(org, LedgerItem.sk.startswith("invoice#")):
                books.numbers[item.number] += 1
                if not item.pdf_key:
                    books.without_pdf.append(item.number)

    summary = replay(scenario, until, out, chaos=chaos, observe=observe)
    return Replayed(out, summary, versions), books


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> tuple[Replayed, Books]:
    return replay_with_books(tmp_path_factory.mktemp("faults-plain"), None)


def zero_counts(plain: tuple[Replayed, Books], got: tuple[Replayed, Books]) -> dict[str, int]:
    (p_out, p_books), (c_out, c_books) = plain, got
    lost = doubled = 0
    for key, (status, rows) in p_books.ingested.items():
        c_status, c_rows = c_books.ingested.get(key, ("missing", 0))
        lost += max(0, rows - c_rows) if status == "accepted" else 0
        doubled += max(0, c_rows - rows)
    lost_q = doubled_q = 0  # invoice lines billing less / more than the plain replay's
    for path in sorted(p_out.out.glob("invoices/*/*.json")):
        rel = path.relative_to(p_out.out)
        mine = c_out.out / rel
        if not mine.is_file():
            continue
        want = _quantities(json.loads(path.read_text()))
        have = _quantities(json.loads(mine.read_text()))
        for line in set(want) | set(have):
            lost_q += want.get(line, 0) > have.get(line, 0)
            doubled_q += have.get(line, 0) > want.get(line, 0)
    plain_numbers = set(p_books.numbers)
    pdfs_missing = {p.stem for p in c_out.out.glob("invoices/*/*.json")} - {
        p.stem for p in c_out.out.glob("invoices/*/*.pdf")
    }
    gaps = 0
    by_org: dict[str, list[int]] = {}
    for number in c_books.numbers:
        org, _, seq = number.rpartition("-")
        by_org.setdefault(org, []).append(int(seq))
    for seqs in by_org.values():
        gaps += max(seqs) - len(set(seqs))
    return {
        "rows lost": lost,
        "rows counted twice": doubled,
        "invoice lines billing less": lost_q,
        "invoice lines billing more": doubled_q,
        "duplicate invoice numbers": sum(n - 1 for n in c_books.numbers.values()),
        "missing invoice numbers": len(plain_numbers - set(c_books.numbers)) + gaps,
        "unexpected invoice numbers": len(set(c_books.numbers) - plain_numbers),
        "invoices without a PDF": len(set(c_books.without_pdf) | pdfs_missing),
        "dead letters": c_out.summary["dead_letters"],
    }


def _quantities(record: dict) -> dict[str, float]:
    lines: Counter[str] = Counter()
    for line in record.get("lines", []):
        ident = f"{line['product']} {line['service_start']} {line['service_end']}"
        lines[ident] += float(line["quantity"])
    return dict(lines)


def run_sweep(plain, tmp_path: Path, reorder: bool, capsys) -> tuple[dict[str, int], list[str]]:
    sweep = Sweep(seed=7, reorder=reorder)
    got = replay_with_books(tmp_path / "sweep", sweep)
    counts = zero_counts(plain, got)
    found = differences(plain[0], got[0])
    s = sweep.stats
    by_function = Counter(site.split()[0] for site in s.crash_sites.elements())
    title = "crash sweep, events reordered" if reorder else "crash sweep, events in order"
    lines = [
        f"cxbill fault suite: {title} ({SCENARIO})",
        f"  crash points tried: {len(s.crash_sites)} distinct (function, call, before/after) "
        f"sites, {s.crashes} crashes ({s.crashes_before} before a call, {s.crashes_after} "
        f"after one): " + ", ".join(f"{f} {n}" for f, n in sorted(by_function.items())),
        f"  deliveries {s.deliveries} in {s.invocations} invocations; duplicates delivered "
        f"{s.duplicates}; reordered pairs {s.reordered}; redelivered after a crash "
        f"{s.redelivered}",
        f"  invoices checked: {len(list(plain[0].out.glob('invoices/*/*.json')))}; "
        f"rejection reports checked: {len(list(plain[0].out.glob('rejections/**/*.json')))}",
        "  must be zero: " + ", ".join(f"{k} {v}" for k, v in counts.items()),
        f"  files differing from the plain replay: {len(found)}",
    ]
    lines += [f"    {d.splitlines()[0]}" for d in found[:12]]
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    assert s.crashes > 0 and s.duplicates > 0
    return counts, found


def test_r_ingest_3_r_invoice_1_crash_at_every_call_changes_nothing(plain, tmp_path, capsys):
    """Events in the plain order, but every function dies at each of its AWS calls in turn
    (before and after the call) and is delivered again, and some messages come twice: the
    outputs and the stores are the plain replay's."""
    counts, found = run_sweep(plain, tmp_path, reorder=False, capsys=capsys)
    assert all(v == 0 for v in counts.values()), counts
    assert not found, "\n".join(found)


def test_r_ingest_7_crash_sweep_with_reordering_changes_nothing(plain, tmp_path, capsys):
    """The same sweep with events shuffled and close groups interleaved."""
    counts, found = run_sweep(plain, tmp_path, reorder=True, capsys=capsys)
    assert all(v == 0 for v in counts.values()), counts
    assert not found, "\n".join(found)
