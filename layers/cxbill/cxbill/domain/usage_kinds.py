"""The usage kinds (4.1, 4.2): each kind defined once, in one section of this module.

A kind is its folder name, its exact header line, its normalized row (a NamedTuple with an
`identity`, by which the latest upload wins, and a `span`, the instants it bills), the
validation of one record's cells into that row, and the row's round trip through the normalized
store's CSV. Adding a kind is one more section here and one more entry in USAGE_KINDS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from sys import intern
from typing import Generic, NamedTuple, Protocol, TypeAlias, TypeVar

from .contract import ADD_ONS, DEVICE_TYPES, NUMBER_TYPES, RESOURCES, TIERS
from .instants import DAY_MS, InvalidTimestamp, date_ms, parse_instant
from .problems import RowError

OPEN_END = 2**62  # an assignment, device or number not yet ended


class Usage(Protocol):
    """What every normalized row offers: the store keeps the latest row per identity (R-usage-1,
    R-ingest-3), and span is [first, last] instant it bills (what a period reads)."""

    @property
    def identity(self) -> Hashable: ...

    @property
    def span(self) -> tuple[int, int]: ...


Row = TypeVar("Row", bound=Usage)
Cells: TypeAlias = list[str]


@dataclass(frozen=True)
class UsageKind(Generic[Row]):
    """One kind of usage file, as 4.1 places it and 4.2 defines it."""

    name: str  # its folder: usage/<org_id>/<name>/<file>.csv[.gz]
    header: str  # the exact header line
    row: type[Row]
    # Validates one record's cells into a row, raising RowError. None for a kind that cannot be
    # read without context: calls are priced as they are read (call_parser, R-deck-1).
    parse: Callable[[Cells], Row] | None
    # The normalized store's cells (to_cells) back into the row, exactly.
    from_cells: Callable[[Cells], Row]

    @property
    def width(self) -> int:
        return self.header.count(",") + 1

    @staticmethod
    def to_cells(row: Row) -> Cells:
        """The normalized form: str() of each field, as the store's csv.writer writes them.
        Decimal(str(d)) keeps d's digits and exponent, so "3.50" comes back as "3.50"."""
        return [str(value) for value in row]  # type: ignore[attr-defined]


# Field checks shared by the kinds: each returns the value normalized or raises RowError naming
# the column, so a rejection report points at the cell (R-ingest-1).


def _instant(column: str, value: str) -> int:
    try:
        return parse_instant(value)
    except InvalidTimestamp as e:
        raise RowError(column, value, str(e)) from e


def _required(column: str, value: str) -> str:
    if not value:
        raise RowError(column, value, f"{column} is required")
    return value


_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
# A plain decimal: no sign, no exponent, digits on both sides of a point. The bounds keep sums
# and products of a period inside Decimal's 28 digits, so rating never rounds or overflows.
_QUANTITY = re.compile(r"[0-9]{1,12}(\.[0-9]{1,9})?")
_COUNT = re.compile(r"[0-9]{1,9}")  # a whole number of seconds (up to ~31 years)
_E164 = re.compile(r"\+[0-9]{8,15}")


def _day(column: str, value: str) -> int:
    m = _DATE.fullmatch(value)
    try:
        if not m:
            raise ValueError
        return date_ms(date(int(m[1]), int(m[2]), int(m[3])))
    except ValueError as e:
        raise RowError(column, value, f"{column} must be a date YYYY-MM-DD: {value!r}") from e


def _choice(column: str, value: str, allowed: tuple[str, ...] | frozenset[str]) -> str:
    if value not in allowed:
        raise RowError(column, value, f"{column} must be one of {', '.join(sorted(allowed))}")
    return value


def _quantity(column: str, value: str) -> Decimal:
    if not _QUANTITY.fullmatch(value):
        raise RowError(
            column,
            value,
            f"{column} must be a plain decimal >= 0 like 12 or 3.5 "
            "(at most 12 digits before the point and 9 after)",
        )
    return Decimal(value)


def _seconds(column: str, value: str) -> int:
    if not _COUNT.fullmatch(value):
        raise RowError(column, value, f"{column} must be a whole number >= 0 (at most 9 digits)")
    return int(value)


def _e164(column: str, value: str) -> str:
    if not _E164.fullmatch(value):
        raise RowError(column, value, f"{column} must be E.164: + then 8 to 15 digits")
    return value


def _span(start_col: str, start: str, end_col: str, end: str) -> tuple[int, int]:
    """[start, end) of a row; an empty end is OPEN_END (still going)."""
    start_ms = _instant(start_col, start)
    end_ms = _instant(end_col, end) if end else OPEN_END
    if end_ms < start_ms:
        raise RowError(end_col, end, f"{end_col} is before {start_col}")
    return start_ms, end_ms


# In the store's from_cells, strings that repeat across millions of rows (users, emails, clients,
# types, numbers) are interned: one string each keeps a large org's period in memory (SPEC 11).

# --- 4.2.1 logins ---------------------------------------------------------------------------------

BILLABLE_CLIENTS = frozenset({"desktop", "web", "mobile"})
CLIENTS = BILLABLE_CLIENTS | {"api", "teams"}


class Session(NamedTuple):
    session_id: str
    user_id: str
    email: str
    client: str
    login_ms: int
    logout_ms: int

    @property
    def identity(self) -> str:
        return self.session_id

    @property
    def billable(self) -> bool:
        return self.client in BILLABLE_CLIENTS

    @property
    def span(self) -> tuple[int, int]:
        return self.login_ms, self.logout_ms


def parse_login(cells: Cells) -> Session:
    session_id, user_id, email, client, login_at, logout_at = cells
    if client not in CLIENTS:  # inline, not _choice: logins are the bulk of all usage
        _choice("client", client, CLIENTS)
    login, logout = _instant("login_at", login_at), _instant("logout_at", logout_at)
    if logout < login:
        raise RowError("logout_at", logout_at, "logout_at is before login_at")
    return Session(
        _required("session_id", session_id),
        _required("user_id", user_id),
        email,
        client,
        login,
        logout,
    )


def _session_from_cells(c: Cells) -> Session:
    return Session(c[0], intern(c[1]), intern(c[2]), intern(c[3]), int(c[4]), int(c[5]))


# --- 4.2.2 licenses -------------------------------------------------------------------------------

PRODUCTS = frozenset(TIERS + ADD_ONS)


class Assignment(NamedTuple):
    user_id: str
    email: str
    product: str
    assigned_ms: int
    unassigned_ms: int  # OPEN_END while still assigned

    @property
    def identity(self) -> tuple[str, str, int]:
        return self.user_id, self.product, self.assigned_ms

    @property
    def span(self) -> tuple[int, int]:
        return self.assigned_ms, self.unassigned_ms


def parse_license(cells: Cells) -> Assignment:
    user_id, email, product, assigned_at, unassigned_at = cells
    _choice("product", product, PRODUCTS)
    span = _span("assigned_at", assigned_at, "unassigned_at", unassigned_at)
    return Assignment(_required("user_id", user_id), email, product, *span)


def _assignment_from_cells(c: Cells) -> Assignment:
    return Assignment(intern(c[0]), intern(c[1]), intern(c[2]), int(c[3]), int(c[4]))


# --- 4.2.3 resources ------------------------------------------------------------------------------


class ResourceUse(NamedTuple):
    """A resource's quantity on one UTC date (`day_ms` = its 00:00)."""

    day_ms: int
    resource: str
    quantity: Decimal

    @property
    def identity(self) -> tuple[int, str]:
        return self.day_ms, self.resource

    @property
    def span(self) -> tuple[int, int]:
        return self.day_ms, self.day_ms + DAY_MS


def parse_resource(cells: Cells) -> ResourceUse:
    day, resource, quantity = cells
    return ResourceUse(
        _day("date", day), _choice("resource", resource, RESOURCES), _quantity("quantity", quantity)
    )


def _resource_from_cells(c: Cells) -> ResourceUse:
    return ResourceUse(int(c[0]), intern(c[1]), Decimal(c[2]))


# --- 4.2.4 devices --------------------------------------------------------------------------------


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
    _required("device_id", device_id)
    _choice("type", type_, DEVICE_TYPES)
    return Device(device_id, type_, *_span("active_from", active_from, "active_to", active_to))


def _device_from_cells(c: Cells) -> Device:
    return Device(c[0], intern(c[1]), int(c[2]), int(c[3]))


# --- 4.2.5 numbers --------------------------------------------------------------------------------


class PhoneNumber(NamedTuple):
    """A number held over [acquired, released)."""

    number: str
    type: str
    acquired_ms: int
    released_ms: int  # OPEN_END while still held

    @property
    def identity(self) -> tuple[str, int]:
        return self.number, self.acquired_ms

    @property
    def span(self) -> tuple[int, int]:
        return self.acquired_ms, self.released_ms


def parse_number(cells: Cells) -> PhoneNumber:
    number, type_, acquired_at, released_at = cells
    _e164("number", number)
    _choice("type", type_, NUMBER_TYPES)
    return PhoneNumber(
        number, type_, *_span("acquired_at", acquired_at, "released_at", released_at)
    )


def _number_from_cells(c: Cells) -> PhoneNumber:
    return PhoneNumber(intern(c[0]), intern(c[1]), int(c[2]), int(c[3]))


# --- 4.2.6 calls ----------------------------------------------------------------------------------

DIRECTIONS = ("inbound", "outbound")


class Call(NamedTuple):
    """A call record, priced by its deck row when its file was ingested (R-deck-1)."""

    call_id: str
    started_ms: int
    direction: str  # inbound | outbound
    origin: str
    destination: str
    duration_s: int
    country: str
    service: str  # outbound | extended_outbound | inbound
    rate_per_minute: Decimal
    adjusted_duration_s: int
    cost: Decimal  # R-call-1: 4 decimal places

    @property
    def identity(self) -> str:
        return self.call_id

    @property
    def span(self) -> tuple[int, int]:
        return self.started_ms, self.started_ms  # billed in the period of started_at


class Price(NamedTuple):
    """What a call's deck row makes of it (R-deck-1, R-call-1)."""

    country: str
    service: str
    rate_per_minute: Decimal
    adjusted_duration_s: int
    cost: Decimal


# Prices (direction, origin, destination, duration_s); raises RowError when nothing matches.
CallPricer: TypeAlias = Callable[[str, str, str, int], Price]


def call_parser(pricer: CallPricer) -> Callable[[Cells], Call]:
    """The calls kind's parse, pricing each call as it is read with the decks in force at
    ingestion (R-deck-1)."""

    def parse_call(cells: Cells) -> Call:
        call_id, started_at, direction, origin, destination, duration_s = cells
        _required("call_id", call_id)
        started = _instant("started_at", started_at)
        _choice("direction", direction, DIRECTIONS)
        _e164("origin", origin)
        _e164("destination", destination)
        seconds = _seconds("duration_s", duration_s)
        price = pricer(direction, origin, destination, seconds)
        return Call(call_id, started, direction, origin, destination, seconds, *price)

    return parse_call


def _call_from_cells(c: Cells) -> Call:
    return Call(
        c[0],
        int(c[1]),
        intern(c[2]),
        intern(c[3]),
        intern(c[4]),
        int(c[5]),
        intern(c[6]),
        intern(c[7]),
        Decimal(c[8]),
        int(c[9]),
        Decimal(c[10]),
    )


# --- the registry ---------------------------------------------------------------------------------

# A normalized usage row, of any kind.
UsageRow: TypeAlias = Session | Assignment | ResourceUse | Device | PhoneNumber | Call

USAGE_KINDS: dict[str, UsageKind] = {
    kind.name: kind
    for kind in (
        UsageKind(
            "logins",
            "session_id,user_id,email,client,login_at,logout_at",
            Session,
            parse_login,
            _session_from_cells,
        ),
        UsageKind(
            "licenses",
            "user_id,email,product,assigned_at,unassigned_at",
            Assignment,
            parse_license,
            _assignment_from_cells,
        ),
        UsageKind(
            "resources", "date,resource,quantity", ResourceUse, parse_resource, _resource_from_cells
        ),
        UsageKind(
            "devices",
            "device_id,type,active_from,active_to",
            Device,
            parse_device,
            _device_from_cells,
        ),
        UsageKind(
            "numbers",
            "number,type,acquired_at,released_at",
            PhoneNumber,
            parse_number,
            _number_from_cells,
        ),
        UsageKind(
            "calls",
            "call_id,started_at,direction,origin,destination,duration_s",
            Call,
            None,  # read with call_parser(pricer): a call is priced as it is read
            _call_from_cells,
        ),
    )
}
