"""`cxbill replay`: a scenario's uploads, day by day, through the local cloud (SPEC 10)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from cxbill.adapters.models import IngestionItem, LedgerItem
from cxbill.domain.invoice import RECORD_KEYS

from .runtime import LocalCloud, local_cloud


class ScenarioError(Exception):
    """The replay cannot run (no such directory, a bad date): a one-line reason."""


@dataclass
class Scenario:
    root: Path
    uploads: dict[date, list[tuple[str, Path]]] = field(default_factory=dict)

    @classmethod
    def load(cls, root: Path) -> Scenario:
        uploads_dir = root / "uploads"
        if not uploads_dir.is_dir():
            raise ScenarioError(f"{root}: no uploads/ directory")
        scenario = cls(root)
        for day_dir in sorted(p for p in uploads_dir.iterdir() if p.is_dir()):
            try:
                day = date.fromisoformat(day_dir.name)
            except ValueError as e:
                raise ScenarioError(f"{day_dir}: not a YYYY-MM-DD directory") from e
            files = [(p.relative_to(day_dir).as_posix(), p) for p in day_dir.rglob("*")]
            scenario.uploads[day] = sorted((key, p) for key, p in files if p.is_file())  # by key
        if not scenario.uploads:
            raise ScenarioError(f"{root}: no uploads")
        return scenario

    @property
    def first_day(self) -> date:
        return min(self.uploads)


def replay(
    scenario_dir: Path, until: date, out: Path, progress: Callable[[int, int], None] | None = None
) -> dict:
    """Replay a scenario through `until` and write invoices, rejections and summary.json."""
    scenario = Scenario.load(scenario_dir)
    days = (until - scenario.first_day).days + 1
    if days < 1:
        raise ScenarioError(f"--until {until} is before the first upload {scenario.first_day}")
    with local_cloud() as cloud:
        uploaded: list[str] = []
        for i in range(days):
            day = scenario.first_day + timedelta(days=i)
            cloud.set_day(day)
            for key, path in scenario.uploads.get(day, []):
                cloud.upload(key, path.read_bytes())
                uploaded.append(key)
            cloud.run_daily(day)
            if progress:
                progress(i + 1, days)
        return write_outputs(cloud, uploaded, out)


def write_outputs(cloud: LocalCloud, uploaded: list[str], out: Path) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    statuses: Counter[str] = Counter()
    orgs: set[str] = set()
    for key in dict.fromkeys(uploaded):
        for item in IngestionItem.query(key):
            statuses[item.status] += 1
            if item.status == "rejected":
                _write(out / "rejections" / f"{key}.json", cloud.get_document(item.report_key))
        if key.startswith("contracts/"):
            orgs.add(key.removeprefix("contracts/").removesuffix(".json"))
        elif key.startswith("usage/"):
            orgs.add(key.split("/")[1])
    kinds: Counter[str] = Counter()
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for org_id in sorted(orgs):
        for item in LedgerItem.query(org_id, LedgerItem.sk.startswith("invoice#")):
            record = json.loads(item.record)
            record = {k: record[k] for k in RECORD_KEYS if k in record}
            _write(
                out / "invoices" / org_id / f"{item.number}.json",
                json.dumps(record, indent=2, ensure_ascii=False).encode(),
            )
            if item.pdf_key:
                _write(
                    out / "invoices" / org_id / f"{item.number}.pdf",
                    cloud.get_document(item.pdf_key),
                )
            kinds[record["kind"]] += 1
            if "total" in record:
                totals[org_id][record["currency"]] += Decimal(record["total"])
    summary = {
        "uploads": {"accepted": statuses["accepted"], "rejected": statuses["rejected"]},
        "invoices": dict(sorted(kinds.items())),
        "dead_letters": len(cloud.dead_letters),
        "totals": {
            org: {cur: str(v) for cur, v in by_cur.items()} for org, by_cur in totals.items()
        },
    }
    _write(out / "summary.json", json.dumps(summary, indent=2).encode())
    return summary


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
