"""The `cxbill` command (SPEC 10): exit status and one-line reasons, the demo's output, and
`serve` answering on loopback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from cxbill_local.cli import main

pytestmark = pytest.mark.e2e
EXAMPLE = Path(__file__).parent / "scenarios" / "northwind-sakura"


def test_replay_of_a_missing_directory_fails_with_one_line(tmp_path, capsys):
    assert (
        main(
            [
                "replay",
                str(tmp_path / "nope"),
                "--until",
                "2026-05-12",
                "--out",
                str(tmp_path / "out"),
            ]
        )
        != 0
    )
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no uploads/ directory" in err


def test_replay_with_a_bad_date_fails(tmp_path, capsys):
    assert main(["replay", str(EXAMPLE), "--until", "2026-13-01", "--out", str(tmp_path)]) != 0
    assert "not a date" in capsys.readouterr().err


def test_replay_with_a_rejected_file_still_exits_0(tmp_path):
    scenario = tmp_path / "s"
    shutil.copytree(EXAMPLE / "uploads", scenario / "uploads")
    out = tmp_path / "out"
    assert main(["replay", str(scenario), "--until", "2026-04-12", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["uploads"] == {"accepted": 6, "rejected": 1}
    assert (out / "rejections/usage/northwind/logins/2026-04-09-extra.csv.json").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_with_a_dev_token_until_interrupted(tmp_path):
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "cxbill_local.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        api = f"http://127.0.0.1:{port + 1}"
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{api}/dev/token?org_id=acme", timeout=1) as r:
                    token = json.load(r)["token"]
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("cxbill serve did not answer")
        request = urllib.request.Request(
            f"{api}/orgs/acme/invoices", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as r:
            assert json.load(r) == {"invoices": []}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{api}/orgs/acme/invoices", timeout=5)
        assert refused.value.code == 401
    finally:
        server.terminate()
        server.wait(timeout=10)
