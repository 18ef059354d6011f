"""Writes the bundled demo scenario (scenarios/demo) that `cxbill demo` replays.

Run `python -m cxbill_local.scenarios.generate_demo` after changing it; the output is committed.
One org of each license model and subscription type, two months of usage, several currencies
(JPY among them), a partner org, a trial, and one upload with a bad row.
"""

from __future__ import annotations

import json
import random
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).parent / "demo"
PRICES = {
    "USD": ("75.00", "90.00", "1.10", "95.00", "115.00", "1.40", "135.00", "160.00", "1.95"),
    "JPY": ("9000", "11000", "130", "12000", "14000", "170", "18000", "21000", "240"),
    "AUD": ("110.00", "130.00", "1.60", "140.00", "165.00", "2.05", "195.00", "230.00", "2.85"),
    "CAD": ("100.00", "120.00", "1.50", "128.00", "150.00", "1.90", "180.00", "215.00", "2.60"),
    "EUR": ("70.00", "84.00", "1.00", "88.00", "106.00", "1.30", "125.00", "148.00", "1.80"),
    "NZD": ("120.00", "140.00", "1.75", "150.00", "180.00", "2.20", "210.00", "250.00", "3.10"),
}

ORGS = [
    # org_id, name, currency, region, activation, model, subscription, extra terms
    (
        "acme-us",
        "Acme Corp",
        "USD",
        "us-east-1",
        "2026-03-15",
        "named",
        "monthly",
        {
            "commitments": {"CX2": 4},
            "resources": {
                "ivr_minutes": {"included": "1000", "rate": "0.012"},
                "storage_gb": {"included": "50", "rate": "0.25"},
            },
            "devices": {"physical_edge": {"monthly": "250.00"}, "phone": {"monthly": "4.00"}},
            "numbers": {
                "did": {"setup": "1.00", "monthly": "1.00"},
                "toll_free": {"setup": "2.00", "monthly": "2.00"},
            },
            "telco": {"short_call_surcharge": "0.01"},
            "taxes": [
                {"name": "State sales tax", "rate": "0.0625"},
                {"name": "County tax", "rate": "0.0175"},
            ],
            "one_time": [
                {"description": "Enablement package", "amount": "5000.00", "date": "2026-03-15"}
            ],
            "hardware": [
                {
                    "description": "Physical Edge appliance",
                    "amount": "4000.00",
                    "shipped_at": "2026-04-03",
                }
            ],
        },
    ),
    (
        "sakura-kk",
        "Sakura KK",
        "JPY",
        "ap-northeast-1",
        "2026-03-31",
        "concurrent",
        "annual_monthly",
        {
            "commitments": {"CX1": 3},
            "ramp_periods": 1,
            "ramp_license_billing": "actual",
            "taxes": [{"name": "Consumption tax", "rate": "0.10"}],
        },
    ),
    (
        "bondi-au",
        "Bondi Pty Ltd",
        "AUD",
        "ap-southeast-2",
        "2026-03-20",
        "hourly",
        "monthly",
        {"taxes": [{"name": "GST", "rate": "0.10"}]},
    ),
    (
        "maple-ca",
        "Maple Services Inc",
        "CAD",
        "ca-central-1",
        "2026-04-01",
        "named",
        "annual_prepay",
        {"commitments": {"CX1": 2, "CX3": 1}, "taxes": [{"name": "HST", "rate": "0.13"}]},
    ),
    (
        "lisboa-pt",
        "Lisboa Contact Lda",
        "EUR",
        "eu-west-1",
        "2026-03-10",
        "named",
        "monthly",
        {"partner": "Atlantic Partners SA", "commitments": {"CX1": 2}},
    ),
    (
        "kiwi-trial",
        "Kiwi Trial Ltd",
        "NZD",
        "ap-southeast-2",
        "2026-03-05",
        "named",
        "monthly",
        {"trial": True},
    ),
]


def contract(org_id, name, currency, region, activation, model, subscription, extra) -> dict:
    p = PRICES[currency]
    prices = {
        f"CX{n}": {"prepay": p[3 * n - 3], "overage": p[3 * n - 2], "hourly": p[3 * n - 1]}
        for n in (1, 2, 3)
    }
    prices["DIGITAL"] = {"overage": "20" if currency == "JPY" else "20.00"}
    return {
        "org_id": org_id,
        "name": name,
        "billing_address": [name, "1 Harbour Road", "Demo City", region.split("-")[0].upper()],
        "region": region,
        "currency": currency,
        "activation_date": activation,
        "license_model": model,
        "subscription": subscription,
        "prices": prices,
        "payment_terms_days": 30,
        **extra,
    }


def licenses(org_id: str, users: int, rng: random.Random, start: date) -> str:
    rows = ["user_id,email,product,assigned_at,unassigned_at"]
    for i in range(users):
        tier = rng.choice(["CX1", "CX1", "CX2", "CX3"])
        rows.append(f"u{i:02d},agent{i:02d}@{org_id}.example,{tier},{start}T00:00:00Z,")
        if i % 4 == 1:
            rows.append(f"u{i:02d},agent{i:02d}@{org_id}.example,DIGITAL,{start}T00:00:00Z,")
    return "\n".join(rows) + "\n"


def logins(org_id: str, users: int, day: date, rng: random.Random, bad: bool = False) -> str:
    rows = ["session_id,user_id,email,client,login_at,logout_at"]
    for i in range(users):
        if rng.random() < 0.3:
            continue
        start = datetime(day.year, day.month, day.day, 8) + timedelta(minutes=rng.randrange(0, 240))
        end = start + timedelta(minutes=rng.randrange(20, 480))
        client = rng.choice(["desktop", "web", "web", "mobile", "teams"])
        rows.append(
            f"{org_id}-{day:%Y%m%d}-{i:02d},u{i:02d},agent{i:02d}@{org_id}.example,"
            f"{client},{start:%Y-%m-%dT%H:%M:%SZ},{end:%Y-%m-%dT%H:%M:%SZ}"
        )
    if bad:
        rows.append(
            f"{org_id}-{day:%Y%m%d}-xx,u99,x@{org_id}.example,fax,{day}T09:00:00Z,{day}T10:00:00Z"
        )
    return "\n".join(rows) + "\n"


def write(day: date, key: str, text: str) -> None:
    path = ROOT / "uploads" / day.isoformat() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


DECK_HEADER = "prefix,country,service,rate_per_minute,min_s,increment_s\n"


def telco(rng: random.Random) -> None:
    """acme-us: rate decks, an inventory of devices and numbers, daily resources, weekly calls."""
    start = date(2026, 3, 15)
    write(
        start,
        "rates/us-east-1/USD/outbound.csv",
        DECK_HEADER
        + "1,US,outbound,0.0100,6,6\n44,GB,extended_outbound,0.0450,60,60\n"
        + "49,DE,extended_outbound,0.0520,60,60\n",
    )
    write(start, "rates/us-east-1/USD/inbound.csv", DECK_HEADER + "1,US,inbound,0.0040,0,1\n")
    write(
        start,
        "usage/acme-us/devices/inventory.csv",
        "device_id,type,active_from,active_to\n"
        "edge-1,physical_edge,2026-03-15T00:00:00Z,\n"
        + "".join(f"phone-{i},phone,2026-03-15T00:00:00Z,\n" for i in range(6)),
    )
    write(
        start,
        "usage/acme-us/numbers/inventory.csv",
        "number,type,acquired_at,released_at\n"
        "+13125550100,did,2026-03-15T00:00:00Z,\n+13125550101,did,2026-03-15T00:00:00Z,\n"
        "+18005550100,toll_free,2026-03-15T00:00:00Z,\n",
    )
    day = start
    while day < date(2026, 5, 31):
        upload_day = day + timedelta(days=7)
        resources, calls = (
            ["date,resource,quantity"],
            ["call_id,started_at,direction,origin,destination,duration_s"],
        )
        for d in range(7):
            when = day + timedelta(days=d)
            resources.append(f"{when},ivr_minutes,{rng.randrange(20, 80)}")
            resources.append(f"{when},storage_gb,{40 + (when - start).days // 3}")
            for n in range(rng.randrange(3, 9)):
                at = f"{when}T{rng.randrange(8, 18):02d}:{rng.randrange(60):02d}:00Z"
                duration = rng.choice([3, 45, 61, 180, 600])
                if n % 4 == 3:
                    row = f"inbound,+1415555{n:04d},+13125550100,{duration}"
                else:
                    to = rng.choice(["+1212555", "+1646555", "+44207123", "+4930123"])
                    row = f"outbound,+13125550100,{to}{n:04d},{duration}"
                calls.append(f"call-{when:%Y%m%d}-{n},{at},{row}")
        write(
            upload_day,
            f"usage/acme-us/resources/week-{day:%Y%m%d}.csv",
            "\n".join(resources) + "\n",
        )
        write(upload_day, f"usage/acme-us/calls/week-{day:%Y%m%d}.csv", "\n".join(calls) + "\n")
        day = upload_day


def main() -> None:
    shutil.rmtree(ROOT / "uploads", ignore_errors=True)
    rng = random.Random(20260301)
    for org in ORGS:
        org_id, activation = org[0], date.fromisoformat(org[4])
        write(activation, f"contracts/{org_id}.json", json.dumps(contract(*org), indent=2))
        write(
            activation,
            f"usage/{org_id}/licenses/initial.csv",
            licenses(org_id, 12, rng, activation),
        )
        day = activation
        while day < date(2026, 5, 31):
            # a weekly export of the week's sessions, uploaded the day after the week ends
            upload_day = day + timedelta(days=7)
            week = [logins(org_id, 12, day + timedelta(days=d), rng) for d in range(7)]
            text = week[0] + "".join(w.split("\n", 1)[1] for w in week[1:])
            write(upload_day, f"usage/{org_id}/logins/week-{day:%Y%m%d}.csv", text)
            day = upload_day
    telco(rng)
    # one export with a bad row: rejected whole, with a report
    write(
        date(2026, 4, 20),
        "usage/acme-us/logins/late-fix.csv",
        logins("acme-us", 12, date(2026, 4, 12), rng, bad=True),
    )
    (ROOT / "UNTIL").write_text("2026-06-02\n")


if __name__ == "__main__":
    main()
