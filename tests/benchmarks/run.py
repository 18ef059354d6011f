"""Scale benchmarks (SPEC 11), run by `make bench`, never by `make test`.

Measures, on the local stand-in:
- ingest of one large logins upload: seconds, peak memory, AWS requests per 1,000 rows;
- the close of a large named org and a large concurrent org from stored usage: seconds and
  DynamoDB/S3 requests per 1,000 rows rated;
- the sustained-peak computation alone over the largest org's sessions.
Writes bench-results/results.json and prints a table. Sizes shrink with --quick.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import resource
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import botocore.client

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))

CALLS: Counter[str] = Counter()
_original = botocore.client.BaseClient._make_api_call


def _counting(self, operation, params):  # every boto3 and PynamoDB request goes through here
    CALLS[f"{self.meta.service_model.service_name}:{operation}"] += 1
    return _original(self, operation, params)


botocore.client.BaseClient._make_api_call = _counting

ACTIVATION = date(2026, 3, 1)
PERIOD_START_MS = 1772323200000  # 2026-03-01T00:00:00Z
DAY_MS = 86_400_000


def logins_csv(rows: int, users: int, seed: int = 7, first: int = 0) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("session_id,user_id,email,client,login_at,logout_at\n")
    for i in range(first, first + rows):
        u = rng.randrange(users)
        start = PERIOD_START_MS + rng.randrange(30 * DAY_MS)
        end = start + rng.randrange(5 * 60_000, 9 * 3_600_000)
        out.write(
            f"s{i},u{u},u{u}@big.example,{'web' if i % 7 else 'desktop'},"
            f"{_iso(start)},{_iso(end)}\n"
        )
    return out.getvalue().encode()


def licenses_csv(users: int) -> bytes:
    lines = ["user_id,email,product,assigned_at,unassigned_at"]
    tiers = ("CX1", "CX1", "CX2", "CX3")
    lines += [f"u{u},u{u}@big.example,{tiers[u % 4]},2026-01-01T00:00:00Z," for u in range(users)]
    return ("\n".join(lines) + "\n").encode()


def _iso(ms: int) -> str:
    from cxbill.domain.instants import format_instant

    return format_instant(ms)


def contract(org_id: str, model: str) -> bytes:
    prices = {
        f"CX{n}": {"prepay": "90.00", "overage": "100.00", "hourly": "1.00"} for n in (1, 2, 3)
    }
    return json.dumps(
        {
            "org_id": org_id,
            "name": org_id,
            "region": "us-east-1",
            "currency": "USD",
            "activation_date": ACTIVATION.isoformat(),
            "license_model": model,
            "subscription": "monthly",
            "prices": prices,
        }
    ).encode()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


MAX_UPLOAD_ROWS = 1_000_000  # SPEC 11: one upload


def bench_org(cloud, org_id: str, model: str, rows: int, users: int) -> dict:
    """The period's sessions arrive in uploads of at most a million rows, then the org closes."""
    cloud.set_day(ACTIVATION)
    cloud.upload(f"contracts/{org_id}.json", contract(org_id, model))
    cloud.upload(f"usage/{org_id}/licenses/all.csv", licenses_csv(users))
    cloud.set_day(date(2026, 4, 1))
    ingest_s = 0.0
    CALLS.clear()
    for part in range(0, rows, MAX_UPLOAD_ROWS):
        size = min(MAX_UPLOAD_ROWS, rows - part)
        body = gzip.compress(logins_csv(size, users, seed=part, first=part), compresslevel=1)
        t0 = time.perf_counter()
        cloud.upload(f"usage/{org_id}/logins/part-{part}.csv.gz", body)
        ingest_s += time.perf_counter() - t0
        del body
    ingest_calls = dict(CALLS)
    ddb_writes = sum(
        v
        for k, v in CALLS.items()
        if k.startswith("dynamodb:")
        and k.split(":")[1]
        in ("PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems", "DeleteItem")
    )
    CALLS.clear()
    t0 = time.perf_counter()
    cloud.run_daily(date(2026, 4, 2))
    close_s = time.perf_counter() - t0
    ddb_reads = sum(
        v
        for k, v in CALLS.items()
        if k.startswith("dynamodb:") and k.split(":")[1] in ("GetItem", "Query", "BatchGetItem")
    )
    return {
        "org": org_id,
        "model": model,
        "rows": rows,
        "users": users,
        "ingest_seconds": round(ingest_s, 2),
        "ingest_requests": ingest_calls,
        "ingest_dynamodb_writes_per_1000_rows": round(ddb_writes * 1000 / rows, 4),
        "close_seconds": round(close_s, 2),
        "close_requests": dict(CALLS),
        "close_dynamodb_reads_per_1000_rows": round(ddb_reads * 1000 / rows, 4),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def bench_peak(sessions: int, users: int) -> dict:
    from cxbill.domain.coverage import sustained_peak, user_coverage

    rng = random.Random(3)
    rows = []
    for _ in range(sessions):
        start = PERIOD_START_MS + rng.randrange(30 * DAY_MS)
        rows.append((f"u{rng.randrange(users)}", start, start + rng.randrange(300_000, 32_400_000)))
    t0 = time.perf_counter()
    coverage = user_coverage(rows, PERIOD_START_MS, PERIOD_START_MS + 31 * DAY_MS)
    peak = sustained_peak(coverage, PERIOD_START_MS, PERIOD_START_MS + 31 * DAY_MS)
    return {
        "sessions": sessions,
        "users": users,
        "peak": peak,
        "seconds": round(time.perf_counter() - t0, 2),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    from cxbill_local.runtime import local_cloud

    rows, users, peak_sessions = (
        (20_000, 2_000, 50_000) if args.quick else (2_000_000, 50_000, 2_000_000)
    )
    results = {"peak_only": bench_peak(peak_sessions, users)}
    with local_cloud() as cloud:
        results["named"] = bench_org(cloud, "big-named", "named", rows, users)
        results["concurrent"] = bench_org(cloud, "big-concurrent", "concurrent", rows, users)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    for name, r in results.items():
        print(name, json.dumps({k: v for k, v in r.items() if not k.endswith("requests")}))
    print(f"written to {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
