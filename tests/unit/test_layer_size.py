"""The Lambda layer stays under 250 MB unzipped (Lambda's limit for a function and its layers).

The layer is layers/cxbill/requirements.txt (and everything those need) plus the cxbill package.
Measured from the distributions installed in this environment (importlib.metadata's file lists),
so the test needs no network and no pip run; DuckDB, the largest, is ~70 MB of it (issue 8).
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
REQUIREMENTS = ROOT / "layers" / "cxbill" / "requirements.txt"
LIMIT_BYTES = 250 * 1024 * 1024  # unzipped: function code and every layer together


def _wanted(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    env = default_environment()
    return any(requirement.marker.evaluate({**env, "extra": extra}) for extra in (extras or {""}))


def _closure() -> dict[str, metadata.Distribution]:
    """Every distribution the layer's requirements pull in, by canonical name."""
    todo = [
        Requirement(line.split("#")[0].strip())
        for line in REQUIREMENTS.read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    found: dict[str, metadata.Distribution] = {}
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in found:
            continue
        dist = metadata.distribution(requirement.name)  # PackageNotFoundError: not installed
        found[name] = dist
        extras = set(requirement.extras)
        todo += [r for r in map(Requirement, dist.requires or []) if _wanted(r, extras)]
    return found


def _size(dist: metadata.Distribution) -> int:
    total = 0
    for file in dist.files or []:
        path = Path(str(file.locate()))
        if path.is_file():
            total += path.stat().st_size
    return total


def test_layer_requirements_are_installed_and_include_duckdb():
    assert "duckdb" in _closure()


def test_layer_is_under_250_mb_unzipped():
    sizes = {name: _size(dist) for name, dist in _closure().items()}
    own = sum(p.stat().st_size for p in (ROOT / "layers" / "cxbill").rglob("*") if p.is_file())
    total = sum(sizes.values()) + own
    largest = sorted(sizes.items(), key=lambda kv: -kv[1])[:5]
    report = ", ".join(f"{n} {s / 2**20:.1f} MiB" for n, s in largest)
    assert sizes["duckdb"] > 10 * 2**20, "duckdb's files were not measured"
    assert total < LIMIT_BYTES, f"layer is {total / 2**20:.1f} MiB: {report}"
