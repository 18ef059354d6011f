"""The usage kinds (4.1, 4.2): one module each, holding everything about the kind (its folder,
header, normalized row with identity and span, validation, how the store keeps each field, and
the charge rule of a kind that bills). Adding a kind is one module and one line in KINDS below.
"""

from __future__ import annotations

from typing import TypeAlias

from .calls import DIRECTIONS, Call, CallPricer, Price, call_parser
from .devices import Device, parse_device
from .fields import OPEN_END
from .kind import COLUMN_TYPES, ChargeRule, IngestContext, Usage, UsageKind
from .licenses import PRODUCTS, Assignment, parse_license
from .logins import BILLABLE_CLIENTS, CLIENTS, Session, parse_login
from .numbers import PhoneNumber, parse_number
from .resources import ResourceUse, parse_resource

from . import calls, devices, licenses, logins, numbers, resources  # isort: skip

# In the order their charge lines are listed (R-invoice-4).
KINDS = (
    logins.LOGINS,
    licenses.LICENSES,
    resources.RESOURCES,
    devices.DEVICES,
    numbers.NUMBERS,
    calls.CALLS,
)
USAGE_KINDS: dict[str, UsageKind] = {kind.name: kind for kind in KINDS}

# A normalized usage row, of any kind.
UsageRow: TypeAlias = Session | Assignment | ResourceUse | Device | PhoneNumber | Call

__all__ = [
    "BILLABLE_CLIENTS",
    "CLIENTS",
    "COLUMN_TYPES",
    "DIRECTIONS",
    "OPEN_END",
    "PRODUCTS",
    "USAGE_KINDS",
    "Assignment",
    "Call",
    "CallPricer",
    "ChargeRule",
    "Device",
    "IngestContext",
    "PhoneNumber",
    "Price",
    "ResourceUse",
    "Session",
    "Usage",
    "UsageKind",
    "UsageRow",
    "call_parser",
    "parse_device",
    "parse_license",
    "parse_login",
    "parse_number",
    "parse_resource",
]
