"""The house's import rule (docs/architecture.md): handler → job → domain ← adapters."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CXBILL = ROOT / "layers" / "cxbill" / "cxbill"


def imported(path: Path) -> set[str]:
    """Absolute names of the modules a file imports (relative imports resolved)."""
    inside = path.is_relative_to(CXBILL)
    package = ".".join(path.relative_to(CXBILL.parent).parts[:-1]) if inside else ""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            names.add(module)
            names |= {f"{module}.{alias.name}" for alias in node.names}
    return names


def test_jobs_import_adapters_only_in_wiring():
    offenders = {
        path.name: sorted(n for n in imported(path) if n.startswith("cxbill.adapters"))
        for path in (CXBILL / "jobs").glob("*.py")
        if path.name != "wiring.py"
    }
    assert {name: found for name, found in offenders.items() if found} == {}
    assert any(n.startswith("cxbill.adapters") for n in imported(CXBILL / "jobs" / "wiring.py"))


@pytest.mark.parametrize("layer", ["jobs", "adapters"])
def test_the_domain_imports_no_job_or_adapter(layer):
    offenders = [
        str(path.relative_to(CXBILL))
        for path in (CXBILL / "domain").rglob("*.py")
        if any(n.startswith(f"cxbill.{layer}") for n in imported(path))
    ]
    assert offenders == []


def test_handlers_import_only_jobs_and_powertools():
    allowed = ("cxbill.jobs", "aws_lambda_powertools", "pydantic")
    handlers = sorted((ROOT / "functions").glob("*/app.py"))
    assert len(handlers) >= 4
    for path in handlers:
        ours = {
            n
            for n in imported(path)
            if n.split(".")[0] in ("cxbill", "aws_lambda_powertools", "pydantic", "boto3")
        }
        assert {n for n in ours if not n.startswith(allowed)} == set(), path
