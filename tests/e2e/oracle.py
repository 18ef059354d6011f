"""A brute-force reference of the billing in SPEC.md, written from the SPEC alone.

It reads a replay scenario (``uploads/<YYYY-MM-DD>/<key>``, SPEC 10) and returns the invoice
records (R-invoice-5) the replay must write through ``--until``. It favours obviously correct over
fast: the sustained peak scans every level over every event boundary, hours are interval unions,
periods are month arithmetic from the activation date, and every close re-reads the uploads.

Scope: valid contracts; logins and licenses usage; named, concurrent and hourly licensing; tiers
and the default tier; add-ons; monthly, annual_monthly and annual_prepay with commitments and ramp;
opening, one_time (with hardware), period and statement invoices; taxes; currency rounding;
partner and trial orgs; numbering (R-invoice-2) and dates (R-period-4, R-invoice-3). Late usage
(R-invoice-6 adjustments), resources, devices, numbers and calls are out of scope.
"""

from __future__ import annotations

import calendar
import csv
import gzip
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

TIERS = ("CX1", "CX2", "CX3")
ADDONS = ("DIGITAL", "WEM")
BILLABLE_CLIENTS = frozenset({"desktop", "web", "mobile"})
CLIENTS = BILLABLE_CLIENTS | {"api", "teams"}
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
SUSTAIN_MS = 30 * MINUTE_MS
CORE = "Core services and fees"
DEVICES = "Device charges"
KIND_RANK = {"opening": 0, "one_time": 1, "period": 2, "statement": 2}
ADDON_NAMES = {"DIGITAL": "Digital Add-on", "WEM": "WEM Add-on"}
COST_KEYS = ("rate", "amount")
_INSTANT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$"
)


# ---------------------------------------------------------------------------------------------
# Time: instants are integer milliseconds since the epoch, UTC.


def months_after(activation: date, k: int) -> date:
    """R-period-1/2: the date k calendar months after activation, day clamped to the month."""
    index = activation.month - 1 + k
    year, month = activation.year + index // 12, index % 12 + 1
    return date(year, month, min(activation.day, calendar.monthrange(year, month)[1]))


def day_ms(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) * 1000


def instant_text(d: date) -> str:
    return f"{d.isoformat()}T00:00:00Z"


def parse_instant(text: str) -> int | None:
    """SPEC 4.1: ISO 8601 with an explicit offset, kept to the millisecond (extra digits cut)."""
    m = _INSTANT.match(text.strip())
    if not m:
        return None
    year, month, day, hour, minute, second, frac, offset = m.groups()
    try:
        base = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    millis = int((frac or "").ljust(3, "0")[:3])
    shift = 0
    if offset != "Z":
        sign = 1 if offset[0] == "+" else -1
        shift = sign * (int(offset[1:3]) * 60 + int(offset[4:6])) * MINUTE_MS
    epoch = int(base.replace(tzinfo=UTC).timestamp()) * 1000
    return epoch + millis - shift


# ---------------------------------------------------------------------------------------------
# Money


def minor_unit(currency: str) -> Decimal:
    return Decimal("1") if currency == "JPY" else Decimal("0.01")


def to_money(value: Decimal, currency: str) -> Decimal:
    """R-money-1: half away from zero, to the currency's minor units."""
    return value.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def hours_of(total_ms: int) -> Decimal:
    """R-hourly-1: milliseconds to hours, rounded half-up to 2 decimals (exact arithmetic)."""
    hundredths = Fraction(total_ms * 100, HOUR_MS) + Fraction(1, 2)
    return (Decimal(hundredths.numerator // hundredths.denominator) / 100).quantize(Decimal("0.01"))


# ---------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Session:
    user: str
    client: str
    start: int
    end: int


@dataclass(frozen=True)
class Assignment:
    user: str
    product: str
    start: int
    end: int | None  # None: still assigned


@dataclass
class Usage:
    sessions: dict[str, Session]
    assignments: dict[tuple[str, str, int], Assignment]


@dataclass(frozen=True)
class Upload:
    day: date
    key: str
    path: Path


def list_uploads(scenario: Path) -> list[Upload]:
    """SPEC 10: each date's files in key order, dates in order."""
    uploads = []
    for day_dir in sorted((scenario / "uploads").iterdir()):
        day = date.fromisoformat(day_dir.name)
        files = [p for p in day_dir.rglob("*") if p.is_file()]
        for path in sorted(files, key=lambda p: p.relative_to(day_dir).as_posix()):
            uploads.append(Upload(day, path.relative_to(day_dir).as_posix(), path))
    return uploads


def read_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    return raw.decode("utf-8-sig")


def csv_rows(path: Path, header: list[str]) -> list[dict[str, str]] | None:
    """The file's rows, or None when its header is wrong (the file is rejected)."""
    lines = [line for line in read_text(path).splitlines() if line.strip()]
    if not lines:
        return None
    reader = csv.reader(io.StringIO("\n".join(lines)))
    rows = list(reader)
    if rows[0] != header:
        return None
    if any(len(row) != len(header) for row in rows[1:]):
        return None
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def parse_logins(path: Path) -> dict[str, Session] | None:
    rows = csv_rows(path, ["session_id", "user_id", "email", "client", "login_at", "logout_at"])
    if rows is None:
        return None
    out: dict[str, Session] = {}
    for row in rows:
        start, end = parse_instant(row["login_at"]), parse_instant(row["logout_at"])
        if row["client"] not in CLIENTS or start is None or end is None or end < start:
            return None  # R-ingest-1: one bad row rejects the whole file
        out[row["session_id"]] = Session(row["user_id"], row["client"], start, end)
    return out


def parse_licenses(path: Path) -> dict[tuple[str, str, int], Assignment] | None:
    rows = csv_rows(path, ["user_id", "email", "product", "assigned_at", "unassigned_at"])
    if rows is None:
        return None
    out: dict[tuple[str, str, int], Assignment] = {}
    for row in rows:
        start = parse_instant(row["assigned_at"])
        end = parse_instant(row["unassigned_at"]) if row["unassigned_at"] else None
        if row["product"] not in TIERS + ADDONS or start is None:
            return None
        if row["unassigned_at"] and (end is None or end < start):
            return None
        key = (row["user_id"], row["product"], start)
        out[key] = Assignment(row["user_id"], row["product"], start, end)
    return out


CONTRACT_DEFAULTS = {
    "ramp_periods": 0,
    "ramp_license_billing": "none",
    "default_tier": "CX1",
    "commitments": {},
    "one_time": [],
    "hardware": [],
    "taxes": [],
    "payment_terms_days": 30,
    "partner": None,
    "trial": False,
}


class Scenario:
    """Contracts and usage by org, each version stamped with its upload date."""

    def __init__(self, root: Path) -> None:
        self.uploads = list_uploads(root)
        self.first_day = min(u.day for u in self.uploads)
        self.contracts: dict[str, list[tuple[date, dict]]] = {}
        self.usage_files: dict[str, list[tuple[date, str, Path]]] = {}
        for upload in self.uploads:
            parts = upload.key.split("/")
            if parts[0] == "contracts" and len(parts) == 2 and parts[1].endswith(".json"):
                contract = {**CONTRACT_DEFAULTS, **json.loads(read_text(upload.path))}
                org = parts[1].removesuffix(".json")
                self.contracts.setdefault(org, []).append((upload.day, contract))
            elif parts[0] == "usage" and len(parts) == 4 and parts[2] in ("logins", "licenses"):
                org = parts[1]
                if org in self.contracts and self.contracts[org][0][0] <= upload.day:
                    self.usage_files.setdefault(org, []).append((upload.day, parts[2], upload.path))

    def terms(self, org: str, run: date) -> dict | None:
        """R-contract-8: the terms in force when the run of `run` starts."""
        current = None
        for day, contract in self.contracts.get(org, []):
            if day <= run:
                current = contract
        return current

    def usage(self, org: str, run: date) -> Usage:
        """Every accepted upload of the org up to the run; the latest upload of an identity wins."""
        usage = Usage({}, {})
        for day, what, path in self.usage_files.get(org, []):
            if day > run:
                continue
            if what == "logins":
                parsed = parse_logins(path)
                if parsed is not None:
                    usage.sessions.update(parsed)
            else:
                parsed_licenses = parse_licenses(path)
                if parsed_licenses is not None:
                    usage.assignments.update(parsed_licenses)
        return usage


# ---------------------------------------------------------------------------------------------
# Rating (SPEC 5), P = [ps, pe) in milliseconds


def session_overlaps(s: Session, ps: int, pe: int) -> bool:
    """R-named-1: overlap, or for a zero-length session its instant lies in P."""
    if s.end == s.start:
        return ps <= s.start < pe
    return s.start < pe and s.end > ps


def assignment_overlaps(a: Assignment, ps: int, pe: int) -> bool:
    if a.end is not None and a.end == a.start:
        return False  # 4.2.2: a zero-length assignment overlaps no period
    return a.start < pe and (a.end is None or a.end > ps)


def billable_sessions(usage: Usage, ps: int, pe: int) -> list[Session]:
    return [
        s
        for s in usage.sessions.values()
        if s.client in BILLABLE_CLIENTS and session_overlaps(s, ps, pe)
    ]


def period_tiers(usage: Usage, ps: int, pe: int, default_tier: str) -> dict[str, str]:
    """R-tier-1/2: each billable user's highest tier overlapping P, else the default tier."""
    tiers = {}
    for user in {s.user for s in billable_sessions(usage, ps, pe)}:
        held = [
            a.product
            for a in usage.assignments.values()
            if a.user == user and a.product in TIERS and assignment_overlaps(a, ps, pe)
        ]
        tiers[user] = max(held, key=TIERS.index) if held else default_tier
    return tiers


def sustained_peak(intervals: dict[str, list[tuple[int, int]]], ps: int, pe: int) -> int:
    """R-conc-1/2: the largest L with c(t) >= L throughout some interval >= 30 min inside P."""
    clipped = {
        user: [(max(a, ps), min(b, pe)) for a, b in spans if min(b, pe) > max(a, ps)]
        for user, spans in intervals.items()
    }
    points = sorted({ps, pe} | {x for spans in clipped.values() for span in spans for x in span})
    segments = []  # (length, c) for each piece between consecutive boundaries
    for left, right in zip(points, points[1:], strict=False):
        level = sum(1 for spans in clipped.values() if any(a <= left < b for a, b in spans))
        segments.append((right - left, level))
    best = 0
    for level in range(1, max((c for _, c in segments), default=0) + 1):
        run = 0
        for length, c in segments:
            run = run + length if c >= level else 0
            if run >= SUSTAIN_MS:
                best = level
                break
    return best


def union_ms(spans: list[tuple[int, int]]) -> int:
    total, reach = 0, None
    for a, b in sorted(spans):
        if reach is None or a > reach:
            total += b - a
            reach = b
        elif b > reach:
            total += b - reach
            reach = b
    return total


def actual_quantities(contract: dict, usage: Usage, ps: int, pe: int) -> dict[str, Decimal]:
    """A(T) of 5.2-5.4: named users, concurrent sustained peaks, or hours."""
    tiers = period_tiers(usage, ps, pe, contract["default_tier"])
    model = contract["license_model"]
    if model == "named":
        return {t: Decimal(sum(1 for x in tiers.values() if x == t)) for t in TIERS}
    spans: dict[str, list[tuple[int, int]]] = {}
    for s in billable_sessions(usage, ps, pe):
        spans.setdefault(s.user, []).append((s.start, s.end))
    if model == "hourly":
        total = {t: 0 for t in TIERS}
        for user, user_spans in spans.items():
            clipped = [(max(a, ps), min(b, pe)) for a, b in user_spans if min(b, pe) > max(a, ps)]
            total[tiers[user]] += union_ms(clipped)
        return {t: hours_of(total[t]) for t in TIERS}
    at_least = {}
    for i, t in enumerate(TIERS):
        group = {u: sp for u, sp in spans.items() if TIERS.index(tiers[u]) >= i}
        at_least[t] = sustained_peak(group, ps, pe)
    return {
        "CX3": Decimal(at_least["CX3"]),
        "CX2": Decimal(at_least["CX2"] - at_least["CX3"]),
        "CX1": Decimal(at_least["CX1"] - at_least["CX2"]),
    }


def addon_quantities(contract: dict, usage: Usage, ps: int, pe: int) -> dict[str, int]:
    """R-named-3 (and R-conc-5, R-hourly-2): billable CX1/CX2 users holding the add-on in P."""
    tiers = period_tiers(usage, ps, pe, contract["default_tier"])
    out = {}
    for addon in ADDONS:
        out[addon] = sum(
            1
            for user, tier in tiers.items()
            if tier in ("CX1", "CX2")
            and any(
                a.user == user and a.product == addon and assignment_overlaps(a, ps, pe)
                for a in usage.assignments.values()
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# Lines and invoices


class Org:
    def __init__(self, org_id: str, contract: dict) -> None:
        self.org_id = org_id
        self.c = contract
        self.activation = date.fromisoformat(contract["activation_date"])
        self.currency = contract["currency"]

    def start(self, k: int) -> date:
        return months_after(self.activation, k)

    def line(
        self, product: str, description: str, first: date, end: date, quantity: Decimal, rate: str
    ) -> dict:
        section = DEVICES if product == "hardware" else CORE
        return {
            "section": section,
            "product": product,
            "description": description,
            "service_start": instant_text(first),
            "service_end": instant_text(end),
            "quantity": str(quantity),
            "rate": rate,
            "amount": str(to_money(quantity * Decimal(rate), self.currency)),
        }

    def commitments(self) -> dict[str, int]:
        if self.c["license_model"] == "hourly":
            return {}
        return {t: int(n) for t, n in (self.c.get("commitments") or {}).items() if int(n) > 0}

    def prepay_lines(self, k: int) -> list[dict]:
        """R-sub-3/4: the advance prepay billed on the invoice opening term period k, if any."""
        ramp, sub = self.c["ramp_periods"], self.c["subscription"]
        if k < ramp or sub == "monthly":
            return []
        if sub == "annual_prepay" and (k - ramp) % 12:
            return []
        months = 12 if sub == "annual_prepay" else 1
        lines = []
        for t, n in sorted(self.commitments().items()):
            lines.append(
                self.line(
                    f"{t}_PREPAY",
                    f"Cloud CX {t[2]} {self.user_word()} – Prepay",
                    self.start(k),
                    self.start(k + months),
                    Decimal(n * months),
                    self.c["prices"][t]["prepay"],
                )
            )
        return lines

    def user_word(self) -> str:
        return "Concurrent User" if self.c["license_model"] == "concurrent" else "User"

    def close_lines(self, k: int, usage: Usage) -> list[dict]:
        first, end = self.start(k), self.start(k + 1)
        ps, pe = day_ms(first), day_ms(end)
        actual = actual_quantities(self.c, usage, ps, pe)
        prices, ramp = self.c["prices"], self.c["ramp_periods"]
        in_ramp = k < ramp
        lines = []
        if self.c["license_model"] == "hourly":
            if not in_ramp or self.c["ramp_license_billing"] == "actual":
                for t in TIERS:
                    lines.append(
                        self.line(
                            f"{t}_HOURS",
                            f"Cloud CX {t[2]} User Hours",
                            first,
                            end,
                            actual[t],
                            prices[t]["hourly"],
                        )
                    )
        else:
            committed = self.commitments()
            for t in TIERS:
                name = f"Cloud CX {t[2]} {self.user_word()}"
                c = Decimal(committed.get(t, 0))
                if in_ramp:
                    if self.c["ramp_license_billing"] == "actual":
                        lines.append(
                            self.line(t, name, first, end, actual[t], prices[t]["overage"])
                        )
                    continue
                if self.c["subscription"] == "monthly":
                    lines.append(
                        self.line(
                            f"{t}_PREPAY",
                            f"{name} – Prepay",
                            first,
                            end,
                            c,
                            prices[t].get("prepay", "0"),
                        )
                    )
                over = max(Decimal(0), actual[t] - c)
                lines.append(self.line(t, name, first, end, over, prices[t]["overage"]))
        for addon, n in addon_quantities(self.c, usage, ps, pe).items():
            rate = (prices.get(addon) or {}).get("overage")
            if rate is not None:  # R-contract-5: an add-on with no price is not billed
                lines.append(self.line(addon, ADDON_NAMES[addon], first, end, Decimal(n), rate))
        if self.c["license_model"] != "hourly":
            lines += self.prepay_lines(k + 1)
        return [line for line in lines if Decimal(line["quantity"]) != 0]  # R-sub-6

    def once_entries(self) -> list[tuple[date, str, dict]]:
        """R-once-1: (date, identity, line) for each distinct one_time and hardware entry."""
        seen: dict[tuple, tuple[date, str, dict]] = {}
        for product, key_field, entries in (
            ("one_time", "date", self.c["one_time"]),
            ("hardware", "shipped_at", self.c["hardware"]),
        ):
            for e in entries:
                day = date.fromisoformat(e[key_field])
                identity = (product, day, e["description"], Decimal(e["amount"]))
                line = self.line(
                    product, e["description"], day, day + timedelta(days=1), Decimal(1), e["amount"]
                )
                seen.setdefault(identity, (day, repr(identity), line))
        return list(seen.values())

    def record(self, kind: str, issue: date, first: date, end: date, lines: list[dict]) -> dict:
        partner = self.c["partner"] is not None
        rec: dict = {
            "number": None,
            "kind": "statement" if kind == "period" and partner else kind,
            "org_id": self.org_id,
            "issue_date": issue.isoformat(),
            "due_date": (issue + timedelta(days=int(self.c["payment_terms_days"]))).isoformat(),
            "currency": self.currency,
            "period_start": instant_text(first),
            "period_end": instant_text(end),
            "lines": lines,
        }
        if partner:  # R-partner-1: quantities only, every cost field absent
            rec["lines"] = [{k: v for k, v in ln.items() if k not in COST_KEYS} for ln in lines]
            return rec
        subtotal = sum((Decimal(ln["amount"]) for ln in lines), Decimal(0))
        subtotal = to_money(subtotal, self.currency)
        taxes = [
            {
                "name": t["name"],
                "rate": t["rate"],
                "amount": str(to_money(subtotal * Decimal(t["rate"]), self.currency)),
            }
            for t in self.c["taxes"]
        ]
        rec["subtotal"] = str(subtotal)
        rec["taxes"] = taxes
        rec["total"] = str(subtotal + sum((Decimal(t["amount"]) for t in taxes), Decimal(0)))
        return rec


def expected_invoices(scenario: Path, until: date) -> list[dict]:
    """Every invoice record the replay of `scenario` through `until` must write, numbered."""
    sc = Scenario(scenario)
    records = []
    for org_id in sorted(sc.contracts):
        records += org_invoices(sc, org_id, until)
    return records


def org_invoices(sc: Scenario, org_id: str, until: date) -> list[dict]:
    issued: list[dict] = []
    opened = False
    billed_once: set[str] = set()
    closed = 0  # periods 0 .. closed-1 are closed
    run = sc.first_day
    while run <= until:
        terms = sc.terms(org_id, run)
        if terms is None or terms["trial"]:  # R-trial-1: never invoiced
            run += timedelta(days=1)
            continue
        org = Org(org_id, terms)
        partner = terms["partner"] is not None
        due: list[dict] = []
        # opening invoice (R-sub-3/4 with the term starting at k = 0; none for partners)
        if not opened and org.activation <= run:
            opened = True
            if not partner and terms["ramp_periods"] == 0:
                due.append(
                    org.record(
                        "opening", org.activation, org.start(0), org.start(1), org.prepay_lines(0)
                    )
                )
        # one-time and hardware entries (R-once-1; none for partners, R-partner-2)
        if not partner:
            by_day: dict[date, list[dict]] = {}
            for day, identity, line in org.once_entries():
                if org.activation <= day <= run and identity not in billed_once:
                    billed_once.add(identity)
                    by_day.setdefault(day, []).append(line)
            for day, lines in by_day.items():
                due.append(org.record("one_time", day, day, day + timedelta(days=1), lines))
        # closes (R-period-4): the period ending at E closes in the run of E's date + 1 day
        while org.start(closed + 1) + timedelta(days=1) <= run:
            k = closed
            closed += 1
            lines = org.close_lines(k, sc.usage(org_id, run))
            due.append(
                org.record("period", org.start(k + 1), org.start(k), org.start(k + 1), lines)
            )
        # R-invoice-2: by issue date, then opening, one_time, period/statement
        due.sort(key=lambda r: (r["issue_date"], KIND_RANK[r["kind"]]))
        for rec in due:
            if rec["lines"]:  # R-sub-6: an invoice with no lines is not issued
                rec["number"] = f"{org_id.upper()}-{len(issued) + 1:06d}"
                issued.append(rec)
        run += timedelta(days=1)
    return issued


# ---------------------------------------------------------------------------------------------
# Comparison


def _num(value: object) -> object:
    try:
        return Decimal(str(value)) if value is not None else None
    except ArithmeticError:
        return value


def _line_key(line: dict) -> tuple:
    return tuple(
        (k, _num(line[k]) if k in ("quantity", "rate", "amount") else line[k])
        for k in sorted(line)
        if k != "description"
    )


def _identity(records: list[dict]) -> dict[tuple, dict]:
    """Records keyed by what they are (kind, issue date, period, occurrence), not by number."""
    out: dict[tuple, dict] = {}
    for r in sorted(records, key=lambda r: r["number"]):
        base = (r["kind"], r["issue_date"], r["period_start"][:10], r["period_end"][:10])
        n = sum(1 for key in out if key[:4] == base)
        out[(*base, n)] = r
    return out


def _sequence(records: list[dict]) -> list[str]:
    return [
        f"{r['number'].rsplit('-', 1)[1]}:{r['kind']}@{r['issue_date']}"
        for r in sorted(records, key=lambda r: r["number"])
    ]


def compare(expected: list[dict], got: list[dict], *, exact_text: bool = False) -> list[str]:
    """Differences between expected and produced records: the numbering, then each record matched
    by kind, issue date and period, every field but description and warnings; decimals compared
    by value (or as written when exact_text)."""
    problems = []
    for org in sorted({r["org_id"] for r in expected + got}):
        w_seq = _sequence([r for r in expected if r["org_id"] == org])
        h_seq = _sequence([r for r in got if r["org_id"] == org])
        if w_seq != h_seq:
            problems.append(f"{org}: numbering:\n    expected {w_seq}\n    got      {h_seq}")
    want, have = _identity(expected), _identity(got)
    for key in sorted(want.keys() - have.keys()):
        problems.append(f"{want[key]['number']} {key}: missing")
    for key in sorted(have.keys() - want.keys()):
        problems.append(f"{have[key]['number']} {key}: unexpected")
    for ident in sorted(want.keys() & have.keys()):
        w, h = want[ident], have[ident]
        name = f"{w['number']} {ident[:4]}"
        for key in sorted((w.keys() | h.keys()) - {"warnings", "lines", "number"}):
            if key not in w or key not in h:
                problems.append(f"{name}: key {key!r} only in {'expected' if key in w else 'got'}")
                continue
            a, b = w[key], h[key]
            if key in ("subtotal", "total") and not exact_text:
                a, b = _num(a), _num(b)
            if key == "taxes" and not exact_text:
                a = [{**t, "rate": _num(t["rate"]), "amount": _num(t["amount"])} for t in a]
                b = [{**t, "rate": _num(t.get("rate")), "amount": _num(t.get("amount"))} for t in b]
            if a != b:
                problems.append(f"{name}: {key}: expected {w[key]!r}, got {h[key]!r}")
        if exact_text:
            wl = sorted(json.dumps(_undescribed(ln), sort_keys=True) for ln in w["lines"])
            hl = sorted(json.dumps(_undescribed(ln), sort_keys=True) for ln in h["lines"])
        else:
            wl = sorted(map(_line_key, w["lines"]), key=repr)
            hl = sorted(map(_line_key, h["lines"]), key=repr)
        if wl != hl:
            problems.append(
                f"{name}: lines differ:\n"
                f"    expected {_brief(w['lines'])}\n    got      {_brief(h['lines'])}"
            )
    return problems


def _undescribed(line: dict) -> dict:
    return {k: v for k, v in line.items() if k != "description"}


def _brief(lines: list[dict]) -> str:
    parts = []
    for ln in sorted(lines, key=lambda x: (x["product"], x["service_start"])):
        cost = f" x {ln.get('rate')} = {ln.get('amount')}" if "amount" in ln else ""
        parts.append(
            f"{ln['product']}[{ln['service_start'][:10]}..{ln['service_end'][:10]}] "
            f"{ln['quantity']}{cost}"
        )
    return "; ".join(parts)


def read_replayed(out: Path) -> list[dict]:
    return [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("invoices/*/*.json"))
    ]
