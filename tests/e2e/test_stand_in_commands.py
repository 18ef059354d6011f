"""SPEC 10: `cxbill upload PATH [--key KEY]` and `cxbill run-daily --date D [--through D2]` on a
running `cxbill serve` (its API and /dev/ routes on loopback, moto behind them)."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from moto.moto_api._internal import moto_api_backend

from cxbill.jobs import wiring
from cxbill_local.cli import main
from cxbill_local.runtime import local_cloud
from cxbill_local.serve import Stand, api_server

pytestmark = pytest.mark.e2e

CONTRACT = {
    "org_id": "acme",
    "name": "Acme Corp",
    "region": "us-east-1",
    "currency": "USD",
    "activation_date": "2026-01-15",
    "license_model": "named",
    "subscription": "monthly",
    "commitments": {"CX2": 1},  # every period bills: its close issues an invoice
    "prices": {
        "CX1": {"overage": "90.00"},
        "CX2": {"prepay": "95.00", "overage": "115.00"},
        "CX3": {"overage": "160.00"},
    },
    "one_time": [{"description": "Enablement", "amount": "500.00", "date": "2026-01-15"}],
}
LICENSES = (
    b"user_id,email,product,assigned_at,unassigned_at\n"
    b"u1,ana@acme.example,CX2,2026-01-15T00:00:00Z,\n"
    b"u2,ben@acme.example,CX1,2026-01-15T00:00:00Z,\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serve_port() -> Iterator[tuple[int, Stand]]:
    """What `cxbill serve --port P` runs, in this process: the port the commands are given."""
    moto_api_backend.reset()  # a loopback moto shares this process's backends: start empty
    with local_cloud(server=True, port=_free_port()) as cloud:
        wiring.settings()
        stand = Stand(cloud, date(2026, 1, 15))
        server = api_server(stand, 0)
        try:
            yield server.server_address[1] - 1, stand  # the API answers on P + 1
        finally:
            server.shutdown()


def api(port: int, path: str, org: str = "acme") -> dict:
    base = f"http://127.0.0.1:{port + 1}"
    with urllib.request.urlopen(f"{base}/dev/token?org_id={org}", timeout=10) as r:
        token = json.load(r)["token"]
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.load(r)


def test_upload_a_day_folder_a_file_by_its_path_and_one_at_a_key(serve_port, tmp_path, capsys):
    port, _ = serve_port
    day = tmp_path / "uploads" / "2026-01-15"
    (day / "contracts").mkdir(parents=True)
    (day / "contracts" / "acme.json").write_text(json.dumps(CONTRACT))
    assert main(["upload", str(day), "--port", str(port)]) == 0
    assert capsys.readouterr().out == "contracts/acme.json: accepted\n"

    usage = tmp_path / "elsewhere" / "usage" / "acme" / "licenses" / "all.csv"
    usage.parent.mkdir(parents=True)
    usage.write_bytes(LICENSES)
    assert main(["upload", str(usage), "--port", str(port)]) == 0  # key from usage/ on
    assert capsys.readouterr().out == "usage/acme/licenses/all.csv: accepted (2 rows)\n"

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"not,a,header\n")
    key = "usage/acme/licenses/bad.csv"
    assert main(["upload", str(bad), "--key", key, "--port", str(port)]) == 0  # an output
    out = capsys.readouterr().out
    assert out == f"{key}: rejected - report rejections/{key}.json\n"


def test_run_daily_runs_each_day_and_moves_the_stand_ins_day(serve_port, tmp_path, capsys):
    port, stand = serve_port
    contract = tmp_path / "contracts" / "acme.json"
    contract.parent.mkdir()
    contract.write_text(json.dumps(CONTRACT))
    assert main(["upload", str(contract), "--port", str(port)]) == 0
    capsys.readouterr()
    args = ["run-daily", "--date", "2026-02-15", "--through", "2026-02-16", "--port", str(port)]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == ["2026-02-15", "2026-02-16"]
    assert stand.today == date(2026, 2, 16)
    invoices = api(port, "/orgs/acme/invoices?from=2026-01-01&to=2026-02-28")["invoices"]
    assert [(i["number"], i["kind"]) for i in invoices] == [
        ("ACME-000002", "period"),
        ("ACME-000001", "one_time"),
    ]
    with urllib.request.urlopen(f"http://127.0.0.1:{port + 1}/console/config.json") as r:
        assert json.load(r)["today"] == "2026-02-16"  # the console's default day follows


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["run-daily", "--date", "2026-02-16", "--through", "2026-02-01"], "is before --date"),
        (["upload", "/nonexistent/file.csv"], "no such file or folder"),
        (["run-daily", "--date", "2026-13-01"], "not a date"),
    ],
)
def test_commands_fail_with_a_plain_reason(args, reason, capsys):
    assert main(args) != 0
    err = capsys.readouterr().err.strip()
    assert reason in err.splitlines()[-1]


def test_upload_without_a_stand_in_says_how_to_start_one(tmp_path, capsys):
    contract = tmp_path / "contracts" / "acme.json"
    contract.parent.mkdir()
    contract.write_text("{}")
    assert main(["upload", str(contract), "--port", str(_free_port())]) == 2
    err = capsys.readouterr().err.strip()
    assert "no stand-in on 127.0.0.1" in err and "cxbill serve" in err


def test_a_file_whose_key_cannot_be_told_needs_one(tmp_path: Path, capsys):
    loose = tmp_path / "somewhere" / "file.csv"
    loose.parent.mkdir()
    loose.write_text("x")
    assert main(["upload", str(loose)]) == 2
    assert "give --key" in capsys.readouterr().err
