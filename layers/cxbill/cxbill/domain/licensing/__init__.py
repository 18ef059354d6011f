"""License models (R-contract-3): one module per model, registered here by its contract name.

A new model is one module with a `LicenseModel` subclass, its tests, and a line below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .concurrent import CONCURRENT
from .hourly import HOURLY
from .model import LicenseModel, LicenseTerms, Measured, TermProblem
from .named import NAMED

if TYPE_CHECKING:
    from ..contract import Contract

__all__ = [
    "LICENSE_MODELS",
    "LicenseModel",
    "LicenseTerms",
    "Measured",
    "TermProblem",
    "license_model",
]

LICENSE_MODELS: dict[str, LicenseModel] = {m.name: m for m in (NAMED, CONCURRENT, HOURLY)}


def license_model(contract: Contract) -> LicenseModel:
    """The model of a (validated) contract."""
    return LICENSE_MODELS[contract.license_model]
