"""The license model interface and registry (R-contract-3), and the domain's purity: no
presentation or AWS library is imported by anything under cxbill.domain."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cxbill.domain.licensing import LICENSE_MODELS, LicenseModel, LicenseTerms, license_model
from cxbill.domain.licensing.tiers import ADD_ONS, TIERS, carries_add_ons

FORBIDDEN = ("babel", "reportlab", "boto3", "botocore", "pynamodb", "aws_lambda_powertools")


def terms(commitments=None, prices=None) -> LicenseTerms:
    commitments = {} if commitments is None else commitments
    return LicenseTerms(
        commitments_json=commitments,
        declared_commitments=commitments,
        committed={t: u for t, u in commitments.items() if u},
        prices=prices or {},
    )


def test_r_contract_3_one_model_per_license_model_name(make_contract):
    assert set(LICENSE_MODELS) == {"named", "concurrent", "hourly"}
    for name, model in LICENSE_MODELS.items():
        assert isinstance(model, LicenseModel)
        assert model.name == name
        assert license_model(make_contract(license_model=name)) is model


def test_r_named_3_add_ons_ride_on_cx1_and_cx2_only():
    assert [tier for tier in TIERS if carries_add_ons(tier)] == ["CX1", "CX2"]
    assert ADD_ONS == ("DIGITAL", "WEM")


@pytest.mark.parametrize("model", LICENSE_MODELS.values(), ids=LICENSE_MODELS)
def test_r_contract_5_every_model_names_the_missing_price_of_every_tier(model):
    problems = model.term_problems(terms(prices={"CX1": None}))  # CX1 was reported already
    assert [p.path for p in problems] == [
        f"prices.CX2.{model.arrears_price}",
        f"prices.CX3.{model.arrears_price}",
    ]


def test_domain_imports_no_presentation_or_aws_library():
    """STYLE: the domain is pure; Babel, ReportLab and AWS belong to adapters."""
    script = (
        "import importlib, json, pkgutil, sys\n"
        "import cxbill.domain as d\n"
        "for m in pkgutil.walk_packages(d.__path__, 'cxbill.domain.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, text=True)
    loaded = json.loads(out.stdout)
    assert "cxbill.domain.licensing.hourly" in loaded  # every module was imported
    assert [m for m in loaded if m.split(".")[0] in FORBIDDEN] == []
