"""R-ingest-7 end to end: `cxbill replay --chaos SEED` delivers events the way AWS may
(shuffled, duplicated, crashed at any AWS call and delivered again) and must write exactly what
the plain replay writes, file by file (SPEC 10).

Every bundled scenario (the demo, and the shared examples as test_examples finds them) is
replayed plainly once and under a few seeds: 2 by default, `CXBILL_CHAOS_SEEDS=20` for 20
(`CXBILL_CHAOS_SEEDS=7,11` names seeds)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from test_examples import scenarios as example_scenarios

from cxbill_local.chaos import Chaos
from cxbill_local.cli import DEMO_SCENARIO, DEMO_UNTIL
from cxbill_local.replay import replay
from cxbill_local.runtime import LocalCloud

pytestmark = pytest.mark.e2e


def chaos_seeds() -> list[int]:
    text = os.environ.get("CXBILL_CHAOS_SEEDS", "2").strip()
    if "," in text:
        return [int(s) for s in text.split(",") if s.strip()]
    return list(range(1, int(text) + 1))


def bundled_scenarios() -> dict[str, tuple[Path, date]]:
    found = {"demo": (DEMO_SCENARIO, DEMO_UNTIL)}
    for scenario in example_scenarios():
        found[scenario.name] = (
            scenario,
            date.fromisoformat((scenario / "UNTIL").read_text().strip()),
        )
    return found


SCENARIOS = bundled_scenarios()


@dataclass
class Replayed:
    """A replay's output directory, its summary, and each upload key's versions in upload order
    (S3 version ids are random per run: reports are compared with a version's ordinal)."""

    out: Path
    summary: dict
    versions: dict[str, list[str]] = field(default_factory=dict)
    ledger_without_pdf: int = 0


def run_replay(scenario: Path, until: date, out: Path, chaos: int | Chaos | None) -> Replayed:
    seen: dict[str, list[str]] = {}

    def observe(cloud: LocalCloud) -> None:
        seen.update({k: list(v) for k, v in cloud.upload_versions.items()})

    summary = replay(scenario, until, out, chaos=chaos, observe=observe)
    return Replayed(out, summary, seen)


def _normalized(rel: str, data: bytes, versions: dict[str, list[str]]) -> bytes:
    """A rejection report with its S3 version id replaced by the version's ordinal."""
    if not rel.startswith("rejections/"):
        return data
    report = json.loads(data)
    key, version = report.get("key"), report.get("version")
    if key in versions and version in versions[key]:
        report["version"] = f"<upload {versions[key].index(version) + 1} of {key}>"
    return json.dumps(report, indent=2, ensure_ascii=False).encode()


def differences(plain: Replayed, chaos: Replayed) -> list[str]:
    """Every way the chaos replay's files differ from the plain replay's (summary.json without
    its `chaos` key; rejection reports with S3 version ids as ordinals)."""

    def files(root: Path) -> set[str]:
        return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}

    want, got = files(plain.out), files(chaos.out)
    found = [f"missing under chaos: {f}" for f in sorted(want - got)]
    found += [f"only under chaos: {f}" for f in sorted(got - want)]
    for rel in sorted(want & got):
        a, b = (plain.out / rel).read_bytes(), (chaos.out / rel).read_bytes()
        if rel == "events.jsonl":
            found += _event_differences(plain, chaos)
            continue
        if rel == "summary.json":
            sa, sb = json.loads(a), json.loads(b)
            sa.pop("chaos", None)
            sb.pop("chaos", None)
            if sa != sb:
                found.append(f"summary.json: plain {sa} != chaos {sb}")
            continue
        if _normalized(rel, a, plain.versions) != _normalized(rel, b, chaos.versions):
            found.append(f"differs: {rel}{_json_diff(a, b) if rel.endswith('.json') else ''}")
    return found


def published_facts(replayed: Replayed) -> tuple[list[str], list[str]]:
    """R-ops-1: the facts of a replay's events.jsonl, each event id once (a retried handler may
    publish a fact again, only with the same id and detail), as comparable text (S3 version ids
    as ordinals, and without the event id, which hashes the version); and every id published
    with two different details."""
    by_id: dict[str, dict] = {}
    clashes = []
    for line in (replayed.out / "events.jsonl").read_text().splitlines():
        event = json.loads(line)
        event_id = event["detail"]["event_id"]
        if by_id.setdefault(event_id, event) != event:
            clashes.append(f"event id {event_id} published as {by_id[event_id]} and {event}")
    facts = []
    for event in by_id.values():
        detail = dict(event["detail"])
        del detail["event_id"]
        key, version = detail.get("key"), detail.get("version")
        if key in replayed.versions and version in replayed.versions[key]:
            detail["version"] = f"<upload {replayed.versions[key].index(version) + 1} of {key}>"
        facts.append(json.dumps({**event, "detail": detail}, sort_keys=True, ensure_ascii=False))
    return sorted(facts), clashes


def _event_differences(plain: Replayed, chaos: Replayed) -> list[str]:
    (want, plain_clashes), (got, chaos_clashes) = published_facts(plain), published_facts(chaos)
    found = [f"events.jsonl: {c}" for c in plain_clashes + chaos_clashes]
    found += [f"events.jsonl: plain only {f}" for f in sorted(set(want) - set(got))[:5]]
    found += [f"events.jsonl: chaos only {f}" for f in sorted(set(got) - set(want))[:5]]
    if not found and want != got:  # the same facts, but one told twice under different ids
        found.append("events.jsonl: a fact was published under two event ids")
    return found


def _json_diff(a: bytes, b: bytes) -> str:
    """The first few top-level fields (or lines) that differ, for the failure message."""
    ja, jb = json.loads(a), json.loads(b)
    notes = []
    for k in sorted(set(ja) | set(jb)):
        if k == "lines" and ja.get(k) != jb.get(k):
            la = {json.dumps(x, sort_keys=True) for x in ja.get(k, [])}
            lb = {json.dumps(x, sort_keys=True) for x in jb.get(k, [])}
            notes += [f"plain line {x}" for x in sorted(la - lb)[:3]]
            notes += [f"chaos line {x}" for x in sorted(lb - la)[:3]]
        elif ja.get(k) != jb.get(k) and k != "version":
            notes.append(f"{k}: {ja.get(k)!r} -> {jb.get(k)!r}")
    return "".join(f"\n      {n}" for n in notes[:8])


@pytest.fixture(scope="module")
def plain(tmp_path_factory) -> dict[str, Replayed]:
    """Each scenario's plain replay, once per module (replayed on first use)."""

    class Lazy(dict):
        def __missing__(self, name: str) -> Replayed:
            scenario, until = SCENARIOS[name]
            out = tmp_path_factory.mktemp(f"plain-{name}")
            self[name] = run_replay(scenario, until, out, None)
            return self[name]

    return Lazy()


@pytest.mark.parametrize("seed", chaos_seeds(), ids=lambda s: f"seed{s}")
@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_r_ingest_7_chaos_replay_equals_plain(name: str, seed: int, plain, tmp_path: Path):
    scenario, until = SCENARIOS[name]
    chaos = Chaos(seed)
    got = run_replay(scenario, until, tmp_path / "chaos", chaos)

    # chaos did happen (or the comparison proves nothing)
    stats = got.summary["chaos"]
    assert stats["deliveries"] > stats["duplicates"] > 0, stats
    assert stats["crashes"]["injected"] > 0, stats

    found = differences(plain[name], got)
    assert not found, (
        f"{name}, chaos seed {seed}: {len(found)} difference(s) from the plain replay "
        f"(reproduce: cxbill replay {scenario} --until {until} --out OUT --chaos {seed})\n  "
        + "\n  ".join(found)
    )


def test_r_ingest_7_summary_keeps_plain_keys_and_counts_chaos(plain, tmp_path: Path):
    """summary.json under chaos: the plain keys, plus `chaos` with what chaos did; the same
    seed delivers the same faults again (reproducible)."""
    name = "northwind-sakura" if "northwind-sakura" in SCENARIOS else "demo"
    scenario, until = SCENARIOS[name]
    first = run_replay(scenario, until, tmp_path / "a", 3)
    again = run_replay(scenario, until, tmp_path / "b", 3)

    assert set(first.summary) == set(plain[name].summary) | {"chaos"}
    assert json.loads((first.out / "summary.json").read_text()) == first.summary
    stats = first.summary["chaos"]
    assert set(stats) >= {"seed", "deliveries", "duplicates", "crashes", "reordered"}
    assert set(stats["crashes"]) == {"injected", "before", "after"}
    assert stats["crashes"]["injected"] == stats["crashes"]["before"] + stats["crashes"]["after"]
    assert stats["seed"] == 3
    assert again.summary == first.summary  # same seed, same deliveries, same outputs
    assert differences(first, again) == []


def test_chaos_cli_flag(tmp_path: Path, monkeypatch, capsys):
    """`cxbill replay ... --chaos SEED` hands the seed (an int) to the replay and prints what
    chaos did; a seed that is not an int is a usage error."""
    import cxbill_local.cli as cli

    calls = []

    def fake_replay(scenario, until, out, chaos=None, **_):
        calls.append(chaos)
        return {"invoices": {}, "chaos": Chaos(chaos).stats.as_json()}

    monkeypatch.setattr(cli, "replay", fake_replay)
    args = ["replay", str(tmp_path), "--until", "2026-01-01", "--out", str(tmp_path / "o")]
    assert cli.main([*args, "--chaos", "42"]) == 0
    assert calls == [42]
    assert "chaos seed 42" in capsys.readouterr().out
    assert cli.main([*args, "--chaos", "many"]) != 0
    assert cli.main(args) == 0 and calls[-1] is None
