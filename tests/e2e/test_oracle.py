"""Differential test: the replay against an independent brute-force oracle (tests/e2e/oracle.py).

(a) the oracle reproduces the shared example's expected invoices exactly, and the SPEC's worked
examples, which validates it;
(b) seeded random scenarios (`random.Random(seed)`: 1-3 orgs, any license model, subscription,
ramp, commitments, currency, month-end and leap-day activations, taxes, one-time and hardware
entries, partner and trial orgs, amended and late contracts; 3-10 users with upgrades, ended
assignments and add-ons; sessions of every client, zero-length, crossing periods and midnight,
overlapping, and concurrent bursts) are replayed and every invoice is compared field by field with
the oracle's (descriptions and warnings aside). All usage reaches the engine before its period
closes, so no R-invoice-6 adjustment arises.

`CXBILL_ORACLE_SEEDS=600 pytest tests/e2e/test_oracle.py` runs seeds 0..599 instead of the
default twelve."""

from __future__ import annotations

import gzip
import importlib.util
import json
import os
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from cxbill_local.replay import replay

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
SHARED_EXAMPLE = HERE.parents[2] / "shared" / "examples" / "northwind-sakura"
# the shared copy when it is beside the checkout, else the one vendored for CI
EXAMPLE = SHARED_EXAMPLE if SHARED_EXAMPLE.is_dir() else HERE / "scenarios" / "northwind-sakura"


def _load_oracle():
    spec = importlib.util.spec_from_file_location("cxbill_e2e_oracle", HERE / "oracle.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


oracle = _load_oracle()

CURRENCIES = ["AUD", "BRL", "CAD", "EUR", "GBP", "JPY", "NZD", "USD"]
TAXES = [
    ("State sales tax", "0.0625"),
    ("Consumption tax", "0.10"),
    ("GST", "0.15"),
    ("VAT", "0.2"),
    ("City levy", "0.0125"),
    ("Odd tax", "0.0375"),
]
MIN = 60_000
HOUR = 60 * MIN


# ---------------------------------------------------------------------------------------------
# (a) the oracle against the hand-checked example


def test_oracle_reproduces_the_shared_example():
    until = date.fromisoformat((EXAMPLE / "UNTIL").read_text().strip())
    want = oracle.read_replayed(EXAMPLE / "expected")
    got = oracle.expected_invoices(EXAMPLE, until)
    assert oracle.compare(want, got, exact_text=True) == []


def test_oracle_follows_the_spec_worked_examples():
    """R-period-2 month ends and the R-conc-4 sustained-peak example, checked by hand."""
    starts = [oracle.months_after(date(2024, 1, 31), k) for k in range(5)]
    assert starts == [
        date(2024, 1, 31),
        date(2024, 2, 29),
        date(2024, 3, 31),
        date(2024, 4, 30),
        date(2024, 5, 31),
    ]
    day = oracle.day_ms(date(2026, 1, 15))
    cx1 = {f"a{i}": [(day + 9 * HOUR, day + 17 * HOUR)] for i in range(10)}
    cx3 = {
        "c1": [(day + 9 * HOUR, day + 9 * HOUR + 20 * MIN), (day + 10 * HOUR, day + 11 * HOUR)],
        "c2": [(day + 9 * HOUR, day + 9 * HOUR + 20 * MIN), (day + 10 * HOUR, day + 11 * HOUR)],
        "c3": [(day + 9 * HOUR, day + 9 * HOUR + 20 * MIN)],
    }
    end = day + 24 * HOUR
    assert oracle.sustained_peak({**cx1, **cx3}, day, end) == 12
    assert oracle.sustained_peak(cx3, day, end) == 2
    assert oracle.sustained_peak({"x": [(day, day + 30 * MIN)]}, day, end) == 1  # exactly 30 min
    assert oracle.sustained_peak({"x": [(day, day + 30 * MIN - 1)]}, day, end) == 0
    assert oracle.hours_of(18_000) == oracle.Decimal("0.01")  # 0.005 h rounds half-up


def _write_contract(root: Path, day: str, contract: dict) -> None:
    path = root / "uploads" / day / "contracts" / f"{contract['org_id']}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(contract, indent=2), encoding="utf-8")


def test_amended_commitments_do_not_issue_a_late_opening_invoice(tmp_path: Path):
    """annual_prepay, no ramp, no commitments at activation (so no opening invoice; R-sub-6: the
    close is still recorded); commitments added by a contract uploaded mid-year apply to overage
    from the next close, and the year's prepay is not billed before the next year starts
    (R-contract-8). Found by this differential test (a backdated opening was issued), fixed in
    7509fee."""
    root = tmp_path / "scenario"
    prices = {
        "CX1": {"prepay": "75.00", "overage": "90.00"},
        "CX2": {"prepay": "95.00", "overage": "115.00"},
        "CX3": {"prepay": "135.00", "overage": "160.00"},
    }
    contract = {
        "org_id": "acme",
        "name": "Acme",
        "region": "us-east-1",
        "currency": "USD",
        "activation_date": "2026-01-15",
        "license_model": "named",
        "subscription": "annual_prepay",
        "prices": prices,
    }
    _write_contract(root, "2026-01-15", contract)
    _write_contract(root, "2026-02-20", {**contract, "commitments": {"CX2": 2}})
    usage = root / "uploads" / "2026-01-15" / "usage" / "acme"
    (usage / "licenses").mkdir(parents=True)
    (usage / "licenses" / "l.csv").write_text(
        "user_id,email,product,assigned_at,unassigned_at\nu1,u1@x.test,CX2,2026-01-01T00:00:00Z,\n"
    )
    (usage / "logins").mkdir(parents=True)
    (usage / "logins" / "s.csv").write_text(
        "session_id,user_id,email,client,login_at,logout_at\n"
        "s1,u1,u1@x.test,desktop,2026-01-20T09:00:00Z,2026-01-20T17:00:00Z\n"
        "s2,u1,u1@x.test,desktop,2026-02-20T09:00:00Z,2026-02-20T17:00:00Z\n"
    )
    until = date(2026, 3, 16)
    replay(root, until, tmp_path / "out")
    got = oracle.read_replayed(tmp_path / "out")
    want = oracle.expected_invoices(root, until)
    # the oracle: ACME-000001 period [01-15, 02-15): CX2 1 x 115.00; nothing else
    assert [(r["number"], r["kind"]) for r in want] == [("ACME-000001", "period")]
    assert oracle.compare(want, got) == []


# ---------------------------------------------------------------------------------------------
# (b) random scenarios


def _ts(rng: random.Random, ms: int, style: float | None = None) -> str:
    """An instant as a CSV timestamp: mostly Z, sometimes an offset or sub-millisecond digits."""
    style = rng.random() if style is None else style
    if style < 0.15:
        offset = rng.choice([9 * 60, -5 * 60, 5 * 60 + 30, -3 * 60])
        local = datetime.fromtimestamp(ms // 1000, UTC) + timedelta(minutes=offset)
        sign = "+" if offset >= 0 else "-"
        hh, mm = divmod(abs(offset), 60)
        frac = f".{ms % 1000:03d}" if ms % 1000 else ""
        return f"{local:%Y-%m-%dT%H:%M:%S}{frac}{sign}{hh:02d}:{mm:02d}"
    base = datetime.fromtimestamp(ms // 1000, UTC)
    frac = f".{ms % 1000:03d}" if ms % 1000 or style < 0.25 else ""
    if frac and style < 0.2:
        frac += str(rng.randint(0, 9))  # digits beyond the millisecond are cut
    return f"{base:%Y-%m-%dT%H:%M:%S}{frac}Z"


def _rate(rng: random.Random, currency: str, lo: float, hi: float) -> str:
    scale = 110 if currency == "JPY" else 1
    value = rng.uniform(lo, hi) * scale
    places = rng.choice([0, 1] if currency == "JPY" else [2, 2, 2, 3, 4])
    if currency == "JPY" and rng.random() < 0.3:
        places = rng.choice([1, 2, 4])
    return f"{value:.{places}f}"


def _amount(rng: random.Random, currency: str) -> str:
    value = rng.uniform(100, 6000)
    return f"{value * 110:.0f}" if currency == "JPY" else f"{value:.2f}"


def _activation(rng: random.Random, year: int, month: int) -> date:
    day = rng.choice([1, 15, 28, 29, 30, 31, 31, 30, 29, rng.randint(1, 31)])
    while True:
        try:
            return date(year, month, day)
        except ValueError:
            day -= 1


def _once_day(rng: random.Random, activation: date, starts: list[date], until: date) -> date:
    """An entry date: often the activation date or a close's issue date or the day after."""
    pick = rng.choice(["act", "issue", "after", "any"])
    if pick == "act":
        return activation
    if pick in ("issue", "after"):
        return rng.choice(starts[1:]) + timedelta(days=1 if pick == "after" else 0)
    return activation + timedelta(days=rng.randint(0, (until - activation).days))


def _contract(
    rng: random.Random, org_id: str, activation: date, starts: list[date], until: date
) -> dict:
    currency = rng.choice(CURRENCIES + ["JPY", "JPY"])
    model = rng.choice(["named", "concurrent", "hourly"])
    c: dict = {
        "org_id": org_id,
        "name": org_id.title(),
        "region": rng.choice(["us-east-1", "ap-northeast-1", "eu-west-2"]),
        "currency": currency,
        "activation_date": activation.isoformat(),
        "license_model": model,
        "subscription": rng.choice(["monthly", "annual_monthly", "annual_prepay"]),
    }
    c["prices"] = _prices(rng, currency)
    ramp = rng.choice([0, 0, 1, 2])
    if ramp or rng.random() < 0.3:
        c["ramp_periods"] = ramp
    if rng.random() < 0.7:
        c["ramp_license_billing"] = rng.choice(["none", "actual"])
    if rng.random() < 0.5:
        c["default_tier"] = rng.choice(["CX1", "CX2", "CX3"])
    if model != "hourly" and rng.random() < 0.75:
        c["commitments"] = _commitments(rng)
    if rng.random() < 0.7:
        c["taxes"] = _taxes(rng)
    entries = []
    for _ in range(rng.choice([0, 0, 1, 2])):
        entry = {
            "description": rng.choice(["Enablement package", "Training"]),
            "amount": _amount(rng, currency),
            "date": _once_day(rng, activation, starts, until).isoformat(),
        }
        entries.append(entry)
        if rng.random() < 0.2:
            entries.append(dict(entry))  # two identical entries are one
    if entries:
        c["one_time"] = entries
    if rng.random() < 0.3:
        day = (
            date.fromisoformat(entries[0]["date"])
            if entries and rng.random() < 0.5
            else _once_day(rng, activation, starts, until)
        )
        c["hardware"] = [
            {
                "description": "Physical Edge appliance",
                "amount": _amount(rng, currency),
                "shipped_at": day.isoformat(),
            }
        ]
    if rng.random() < 0.6:
        c["payment_terms_days"] = rng.choice([0, 7, 14, 30, 45, 60, 90])
    roll = rng.random()
    if roll < 0.12:
        c["partner"] = "Acme Channel Partners"
    elif roll < 0.2:
        c["trial"] = True
    return c


def _prices(rng: random.Random, currency: str) -> dict:
    prices: dict = {}
    for i, tier in enumerate(("CX1", "CX2", "CX3")):
        prices[tier] = {
            "prepay": _rate(rng, currency, 60 + 30 * i, 80 + 30 * i),
            "overage": _rate(rng, currency, 90 + 30 * i, 110 + 30 * i),
            "hourly": _rate(rng, currency, 0.5 + i, 1.5 + i),
        }
    for addon in ("DIGITAL", "WEM"):
        if rng.random() < 0.75:
            prices[addon] = {"overage": _rate(rng, currency, 5, 40)}
    return prices


def _commitments(rng: random.Random) -> dict:
    return {t: rng.randint(0, 4) for t in rng.sample(["CX1", "CX2", "CX3"], rng.randint(0, 3))}


def _taxes(rng: random.Random) -> list[dict]:
    return [{"name": n, "rate": r} for n, r in rng.sample(TAXES, rng.randint(0, 2))]


def _amended(rng: random.Random, c: dict, starts: list[date], until: date) -> dict:
    """A later version of the contract: same org, activation, currency, model and ramp."""
    new = json.loads(json.dumps(c))
    if rng.random() < 0.6:
        new["prices"] = _prices(rng, c["currency"])
    if rng.random() < 0.5:
        new["taxes"] = _taxes(rng)
    if c["license_model"] != "hourly" and rng.random() < 0.5:
        new["commitments"] = _commitments(rng)
    if rng.random() < 0.3:
        new["payment_terms_days"] = rng.choice([0, 10, 30])
    if rng.random() < 0.3:
        new["default_tier"] = rng.choice(["CX1", "CX2", "CX3"])
    entries = new.get("one_time", [])
    if entries and rng.random() < 0.3:  # a changed amount is a new entry, billed again
        changed = rng.choice(entries)
        changed["amount"] = _amount(rng, c["currency"])
    if entries and rng.random() < 0.2:  # an entry withdrawn (billed already or never)
        entries.remove(rng.choice(entries))
    if new.get("hardware") and rng.random() < 0.3:  # shipped on another day: a new entry
        shipped = date.fromisoformat(new["hardware"][0]["shipped_at"])
        new["hardware"][0]["shipped_at"] = (shipped + timedelta(days=rng.randint(1, 9))).isoformat()
    if rng.random() < 0.4:  # an entry added later, possibly for a date already invoiced
        activation = date.fromisoformat(c["activation_date"])
        new.setdefault("one_time", []).append(
            {
                "description": "Late addition",
                "amount": _amount(rng, c["currency"]),
                "date": _once_day(rng, activation, starts, until).isoformat(),
            }
        )
    return new


def _licenses(
    rng: random.Random, users: list[str], lo: int, hi: int, act: int, boundaries: list[int]
) -> list[list]:
    rows: list[list] = []

    def when() -> int:
        roll = rng.random()
        if roll < 0.15:  # exactly on a period boundary, or a millisecond beside it
            return rng.choice(boundaries) + rng.choice([0, 0, -1, 1])
        t = rng.randint(lo, hi)
        return t - t % MIN if roll < 0.8 else t

    for user in users:
        email = f"{user}@example.test"
        pattern = rng.choice(["plain", "plain", "upgrade", "upgrade", "ended", "late", "none"])
        tier = rng.choice(["CX1", "CX2", "CX3"])
        start = act - rng.randint(0, 5) * 86_400_000
        if pattern == "plain":
            rows.append([user, email, tier, start, None])
        elif pattern == "upgrade":
            t = max(start, when())
            low, high = sorted(rng.sample(["CX1", "CX2", "CX3"], 2))
            rows.append([user, email, low, start, t])
            rows.append([user, email, high, t, None])
        elif pattern == "ended":
            rows.append([user, email, tier, start, max(start, when())])
        elif pattern == "late":
            rows.append([user, email, tier, when(), None])
        for addon in ("DIGITAL", "WEM"):
            if rng.random() < 0.35:
                a = rng.choice([start, when()])
                b = rng.choice([None, None, max(a, when())])
                rows.append([user, email, addon, a, b])
        if rng.random() < 0.1:
            t = when()
            rows.append([user, email, "CX3", t, t])  # zero-length: overlaps no period
    return rows


def _sessions(
    rng: random.Random, users: list[str], lo: int, hi: int, boundaries: list[int]
) -> list[list]:
    sessions: list[list] = []
    clients = ["desktop"] * 3 + ["web"] * 3 + ["mobile"] * 2 + ["teams", "api"]
    kinds = ["normal", "normal", "zero", "cross", "midnight", "overlap", "chain", "edge"]
    kinds += ["long", "halfcent"]
    for user in users:
        previous = None
        for _ in range(rng.randint(0, 6)):
            kind = rng.choice(kinds)
            if kind == "cross":
                start = rng.choice(boundaries) - rng.randint(1, 180) * MIN
                length = rng.randint(1, 360) * MIN
            elif kind == "midnight":
                day = rng.randint(lo, hi) // 86_400_000 * 86_400_000
                start = day - rng.randint(1, 120) * MIN
                length = rng.randint(1, 300) * MIN
            elif kind in ("overlap", "chain") and previous:
                start = previous[1] if kind == "chain" else rng.randint(previous[0], previous[1])
                length = rng.randint(1, 240) * MIN
            elif kind == "edge":  # ends at, starts at, or is a zero-length instant on a boundary
                edge = rng.choice(boundaries)
                length = rng.choice([0, rng.randint(1, 120) * MIN])
                start = rng.choice([edge, edge - length, edge - 1])
            elif kind == "long":
                start = rng.randint(lo, hi)
                length = rng.randint(2 * 24 * 60, 40 * 24 * 60) * MIN
            elif kind == "halfcent":  # a whole number of hundredths of an hour and a half
                start = rng.randint(lo, hi)
                length = rng.randint(0, 300) * 36_000 + 18_000
            else:
                start = rng.randint(lo, hi)
                start -= start % MIN if rng.random() < 0.7 else 0
                length = rng.randint(5, 600) * MIN + rng.choice([0, 0, rng.randint(1, 59_999)])
            if kind == "zero":
                length = 0
            previous = (start, start + length)
            sessions.append([user, rng.choice(clients), start, start + length])
    for _ in range(rng.randint(0, 3)):  # concurrent bursts of 25-40 minutes
        t = rng.choice([rng.randint(lo, hi), rng.choice(boundaries) - rng.randint(0, 35) * MIN])
        t -= t % MIN
        common = rng.choice([30 * MIN, 30 * MIN - 1, rng.randint(25, 40) * MIN])
        for user in rng.sample(users, rng.randint(2, len(users))):
            jitter = rng.choice([0, 0, rng.randint(0, 5) * MIN])
            end = t + common if rng.random() < 0.6 else t + rng.randint(25, 40) * MIN
            client = rng.choice(["desktop", "web", "mobile"])
            if rng.random() < 0.2 and end - t > jitter + MIN:  # one user's two chained sessions
                middle = t + jitter + rng.randint(1, (end - t - jitter) // MIN - 1) * MIN
                sessions.append([user, client, t + jitter, middle])
                sessions.append([user, rng.choice(["desktop", "web"]), middle, end])
            else:
                sessions.append([user, client, t + jitter, end])
    return sessions


def _write_csv(rng: random.Random, path: Path, header: str, rows: list[str]) -> None:
    """A CSV upload, sometimes with CRLF, a byte-order mark, blank lines or gzip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [header, *rows]
    if rng.random() < 0.15 and len(lines) > 2:
        lines.insert(rng.randint(1, len(lines) - 1), "")
    text = ("\r\n" if rng.random() < 0.2 else "\n").join(lines) + "\n"
    data = (b"\xef\xbb\xbf" if rng.random() < 0.15 else b"") + text.encode("utf-8")
    if rng.random() < 0.15:
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)


def _quoted(rng: random.Random, email: str) -> str:
    return f'"{email}"' if rng.random() < 0.1 else email


def generate_scenario(seed: int, root: Path, closes: int | None = None) -> date:
    """Write a small random scenario under root; returns the --until date (after `closes`
    closes of each org, 2 or 3 unless given)."""
    rng = random.Random(seed)
    year = rng.choice([2024, 2025, 2026, 2028])
    month = rng.choice([1, 1, 2, 3, 8, 10, 11, 12, rng.randint(1, 12)])
    closes = closes or rng.choice([2, 3])
    orgs = []
    for i in range(rng.randint(1, 3)):
        activation = _activation(rng, year, month)
        starts = [oracle.months_after(activation, k) for k in range(closes + 2)]
        org_until = starts[closes] + timedelta(days=1 + rng.choice([0, 0, 1, 3]))
        orgs.append((f"org{seed % 1000}-{'abc'[i]}", activation, starts, org_until))
    until = max(o[3] for o in orgs)
    uploads = root / "uploads"
    for org_id, activation, starts, _ in orgs:
        contract = _contract(rng, org_id, activation, starts, until)
        act = oracle.day_ms(activation)
        lo, hi = act - 2 * 86_400_000, oracle.day_ms(starts[closes]) + 2 * 86_400_000
        boundaries = [oracle.day_ms(d) for d in starts[: closes + 1]]
        users = [f"u{j}" for j in range(1, rng.randint(3, 10) + 1)]
        # the org's first uploads: on the activation date, before it, or late (all due catches up)
        first = activation
        roll = rng.random()
        if roll < 0.12:
            first += timedelta(days=rng.randint(1, 45))
        elif roll < 0.2:  # uploaded before the activation date
            first -= timedelta(days=rng.randint(1, 10))
        first_dir = uploads / first.isoformat()
        (first_dir / "contracts").mkdir(parents=True, exist_ok=True)
        (first_dir / "contracts" / f"{org_id}.json").write_text(json.dumps(contract, indent=2))
        if rng.random() < 0.25:  # amended terms before a later close
            day = first + timedelta(days=rng.randint(1, max(1, (until - first).days)))
            amended = uploads / day.isoformat() / "contracts" / f"{org_id}.json"
            amended.parent.mkdir(parents=True, exist_ok=True)
            amended.write_text(json.dumps(_amended(rng, contract, starts, until), indent=2))

        lic_rows = []
        for u, e, p, a, b in _licenses(rng, users, lo, hi, act, boundaries):
            end = "" if b is None else _ts(rng, b)
            lic_rows.append(f"{u},{_quoted(rng, e)},{p},{_ts(rng, a)},{end}")
            if rng.random() < 0.08:  # the same identity again, spelled in another offset
                later = _ts(rng, max(a, rng.randint(lo, hi)))
                lic_rows.append(f"{u},{e},{p},{_ts(rng, a, 0.0)},{later}")
        _write_csv(
            rng,
            first_dir / "usage" / org_id / "licenses" / "all.csv",
            "user_id,email,product,assigned_at,unassigned_at",
            lic_rows,
        )

        per_period = rng.random() < 0.5
        files: dict[tuple[date, str], list[str]] = {}
        for n, (user, client, a, b) in enumerate(_sessions(rng, users, lo, hi, boundaries)):
            email = _quoted(rng, f"{user}@example.test")
            row = f"s{n},{user},{email},{client},{_ts(rng, a)},{_ts(rng, b)}"
            upload_day = first
            if per_period:  # on the close day of the first period the session touches
                for k in range(closes):
                    touches = (
                        boundaries[k] <= a < boundaries[k + 1]
                        if a == b
                        else a < boundaries[k + 1] and b > boundaries[k]
                    )
                    if touches:
                        upload_day = max(first, starts[k + 1] + timedelta(days=1))
                        break
            name = rng.choice(["a", "b"])
            files.setdefault((upload_day, name), []).append(row)
            if rng.random() < 0.1:  # the same session delivered again in another file
                files.setdefault((upload_day, "c"), []).append(row)
            if rng.random() < 0.08:  # corrected later the same day (before any close)
                fixed = b + rng.randint(0, 90) * MIN
                files.setdefault((upload_day, "d-fix"), []).append(
                    f"s{n},{user},{user}@example.test,{client},{_ts(rng, a)},{_ts(rng, fixed)}"
                )
        if rng.random() < 0.1:
            files.setdefault((first, "e-empty"), [])  # a header-only file: 0 rows
        for (day, name), rows in sorted(files.items()):
            _write_csv(
                rng,
                uploads / day.isoformat() / "usage" / org_id / "logins" / f"{name}.csv",
                "session_id,user_id,email,client,login_at,logout_at",
                rows,
            )
    return until


def _seeds() -> list[int]:
    count = int(os.environ.get("CXBILL_ORACLE_SEEDS", "0"))
    return list(range(count)) if count else DEFAULT_SEEDS


DEFAULT_SEEDS = list(range(12))
# Seeds whose disagreement the SPEC decides against the engine: seed -> the rule, for a strict
# xfail. Seeds are tied to this generator's random stream: re-derive them after changing it.
# (Seeds 19, 61, 63, 405, 511, 520 and 592 of 0..599 found the late opening invoice fixed in
# 7509fee; test_amended_commitments_do_not_issue_a_late_opening_invoice keeps it fixed.)
KNOWN_ENGINE_BUGS: dict[int, str] = {}


def check_seed(seed: int, tmp: Path) -> list[str]:
    scenario = tmp / f"scenario-{seed}"
    until = generate_scenario(seed, scenario)
    out = tmp / f"out-{seed}"
    replay(scenario, until, out)
    return oracle.compare(oracle.expected_invoices(scenario, until), oracle.read_replayed(out))


@pytest.mark.parametrize(
    "seed",
    [
        pytest.param(s, marks=pytest.mark.xfail(reason=KNOWN_ENGINE_BUGS[s], strict=True))
        if s in KNOWN_ENGINE_BUGS
        else s
        for s in _seeds()
    ],
)
def test_replay_agrees_with_oracle(seed: int, tmp_path: Path):
    problems = check_seed(seed, tmp_path)
    assert problems == [], f"seed {seed}:\n" + "\n".join(problems)
