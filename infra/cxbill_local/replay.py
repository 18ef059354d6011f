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

from .chaos import Chaos
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
    scenario_dir: Path,
    until: date,
    out: Path,
    progress: Callable[[int, int], None] | None = None,
    chaos: int | Chaos | None = None,
    observe: Callable[[LocalCloud], None] | None = None,
) -> dict:
    """Replay a scenario through `until` and write invoices, rejections and summary.json.

    `chaos` (a seed, or a `Chaos` to read its figures from afterwards) delivers every event the
    way AWS may (see `chaos.py`): a day's uploads are all put first, then their events are
    delivered shuffled, duplicated and crashed; close messages likewise. The outputs must be the
    plain replay's (R-ingest-7); summary.json adds what chaos did under `chaos`.
    `observe(cloud)` runs after the outputs are written, while the local cloud still exists."""
    scenario = Scenario.load(scenario_dir)
    days = (until - scenario.first_day).days + 1
    if days < 1:
        raise ScenarioError(f"--until {until} is before the first upload {scenario.first_day}")
    if isinstance(chaos, int) and not isinstance(chaos, bool):
        chaos = Chaos(chaos)
    with local_cloud() as cloud:
        cloud.chaos = chaos
        uploaded: list[str] = []
        for i in range(days):
            day = scenario.first_day + timedelta(days=i)
            cloud.set_day(day)
            for key, path in scenario.uploads.get(day, []):
                if chaos is None:
                    cloud.upload(key, path.read_bytes())
                else:  # all of the day's uploads first; their events come in any order
                    cloud.put_upload(key, path.read_bytes())
                uploaded.append(key)
            if chaos is not None:
                cloud.deliver_uploads()  # every delivery, retries included, before the daily
            cloud.run_daily(day)
            if progress:
                progress(i + 1, days)
        summary = write_outputs(cloud, uploaded, out, chaos)
        if observe:
            observe(cloud)
        return summary


def write_outputs(
    cloud: LocalCloud, uploaded: list[str], out: Path, chaos: Chaos | None = None
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    statuses: Counter[str] = Counter()
    orgs: set[str] = set()
    for key in dict.fromkeys(uploaded):
        for item in IngestionItem.query(key):
            statuses[item.status] += 1
            if item.status == "rejected":
                # rejections/<key>.json, or rejections/_long-keys/<digest>.json (R-ingest-6)
                _write(out / item.report_key, cloud.get_document(item.report_key))
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
            issuer = json.loads(item.document or "{}").get("issuer")
            if issuer:  # R-pdf-3: the seller as it was at issue
                record["issuer"] = issuer
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
    write_events(cloud, out / "events.jsonl")
    summary: dict = {
        "uploads": {"accepted": statuses["accepted"], "rejected": statuses["rejected"]},
        "invoices": dict(sorted(kinds.items())),
        "dead_letters": len(cloud.dead_letters),
        "totals": {
            org: {cur: str(v) for cur, v in by_cur.items()} for org, by_cur in totals.items()
        },
    }
    if chaos is not None:
        summary["chaos"] = chaos.stats.as_json()
    _write(out / "summary.json", json.dumps(summary, indent=2).encode())
    return summary


def write_events(cloud: LocalCloud, path: Path) -> list[dict]:
    """R-ops-1: what the system published to its bus, one event a line in the order the bus
    received them (read from the stand-in's tap queue, which this empties): detail type,
    source and detail. A retried handler may publish a fact again, with the same `event_id`."""
    events = []
    sqs, url = cloud.sqs, cloud.stack.events_queue_url
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        for message in messages:
            event = json.loads(message["Body"])
            events.append({k: event[k] for k in ("detail-type", "source", "detail")})
        receipts = [
            {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)
        ]
        sqs.delete_message_batch(QueueUrl=url, Entries=receipts)
    lines = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)
    _write(path, lines.encode())
    return events


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
