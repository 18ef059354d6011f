"""4.2.4 devices: a device active over [active_from, active_to), billed monthly per device id
(R-dev-1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from ..contract import DEVICE_TYPES
from ..lines import DEVICE_CHARGES, Draft
from .charging import bill, count, held, ordered
from .fields import choice, required, span
from .kind import Cells, UsageKind

if TYPE_CHECKING:
    from ..contract import Contract
    from ..periods import BillingPeriod

DEVICE_NAMES = {
    "physical_edge": "Physical Edge",
    "virtual_edge": "Virtual Edge",
    "phone": "Phone",
}


class Device(NamedTuple):
    """A device active over [active_from, active_to)."""

    device_id: str
    type: str
    active_from_ms: int
    active_to_ms: int  # OPEN_END while still active

    @property
    def identity(self) -> tuple[str, int]:
        return self.device_id, self.active_from_ms

    @property
    def span(self) -> tuple[int, int]:
        return self.active_from_ms, self.active_to_ms


def parse_device(cells: Cells) -> Device:
    device_id, type_, active_from, active_to = cells
    required("device_id", device_id)
    choice("type", type_, DEVICE_TYPES)
    return Device(device_id, type_, *span("active_from", active_from, "active_to", active_to))


def device_types(rows: Iterable[Device], start_ms: int, end_ms: int) -> dict[str, str]:
    """Each device id active in [start_ms, end_ms), typed by its latest row active there (a
    device re-registered as another type bills once, as what it became)."""
    latest: dict[str, tuple[int, str]] = {}
    for row in rows:
        if held(row.active_from_ms, row.active_to_ms, start_ms, end_ms):
            mark = (row.active_from_ms, row.type)
            latest[row.device_id] = max(latest.get(row.device_id, mark), mark)
    return {device_id: kind for device_id, (_, kind) in latest.items()}


def add_devices(
    draft: Draft, contract: Contract, period: BillingPeriod, rows: Iterable[Device]
) -> None:
    """R-dev-1: one monthly unit per device id active in P, under the type of its latest row
    in P."""
    counts = count(device_types(rows, period.start_ms, period.end_ms).values())
    for kind in ordered(counts, DEVICE_NAMES):
        price = contract.devices.get(kind, {}).get("monthly")
        name = DEVICE_NAMES.get(kind, kind)
        price_key = f"devices.{kind}.monthly"
        bill(draft, period, DEVICE_CHARGES, kind, name, counts[kind], price, price_key)


DEVICES = UsageKind(
    "devices",
    "device_id,type,active_from,active_to",
    Device,
    ("text", "name", "instant", "instant"),
    ("device_id", "active_from_ms"),
    parse_device,
    charge=add_devices,
)
