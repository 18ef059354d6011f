"""Usage files: streaming CSV validation into normalized rows (section 4, R-ingest-1/2).

A file is read once, row by row; every row is checked and handed to a sink, and the problems of
the whole file are collected so that a bad file is rejected whole with every bad row listed.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import IO, NamedTuple, TypeAlias, TypeVar

from .contract import ADD_ONS, DEVICE_TYPES, NUMBER_TYPES, RESOURCES, TIERS
from .instants import DAY_MS, InvalidTimestamp, date_ms, parse_instant
from .problems import MAX_REPORTED, Problem, Rejected

BILLABLE_CLIENTS = frozenset({"desktop", "web", "mobile"})
CLIENTS = BILLABLE_CLIENTS | {"api", "teams"}
PRODUCTS = frozenset(TIERS + ADD_ONS)
OPEN_END = 2**62  # an assignment not yet ended


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


class ResourceUse(NamedTuple):
    """4.2.3: a resource's quantity on one UTC date (`day_ms` = its 00:00)."""

    day_ms: int
    resource: str
    quantity: Decimal

    @property
    def identity(self) -> tuple[int, str]:
        return self.day_ms, self.resource

    @property
    def span(self) -> tuple[int, int]:
        return self.day_ms, self.day_ms + DAY_MS


class Device(NamedTuple):
    """4.2.4: a device active over [active_from, active_to)."""

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


class PhoneNumber(NamedTuple):
    """4.2.5: a number held over [acquired, released)."""

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


class Call(NamedTuple):
    """4.2.6: a call record, priced by its deck row when its file was ingested (R-deck-1)."""

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


# A normalized usage row: every kind has an `identity` (latest upload wins) and a `span`.
UsageRow: TypeAlias = Session | Assignment | ResourceUse | Device | PhoneNumber | Call


# The exact header line of each usage kind (4.2).
HEADERS = {
    "logins": "session_id,user_id,email,client,login_at,logout_at",
    "licenses": "user_id,email,product,assigned_at,unassigned_at",
    "resources": "date,resource,quantity",
    "devices": "device_id,type,active_from,active_to",
    "numbers": "number,type,acquired_at,released_at",
    "calls": "call_id,started_at,direction,origin,destination,duration_s",
}
DIRECTIONS = ("inbound", "outbound")
_KEY = re.compile(r"usage/(?P<org>[^/]+)/(?P<kind>[a-z]+)/[^/]+\.csv(?P<gz>\.gz)?")


@dataclass(frozen=True)
class UsageKey:
    org_id: str
    kind: str
    gzipped: bool


def parse_usage_key(key: str) -> UsageKey | None:
    m = _KEY.fullmatch(key)
    if not m or m["kind"] not in HEADERS:
        return None
    return UsageKey(m["org"], m["kind"], bool(m["gz"]))


@dataclass
class FileSummary:
    rows: int = 0
    first_ms: int | None = None  # the earliest instant any row touches
    last_ms: int | None = None  # the latest
    problems: list[Problem] = field(default_factory=list)
    more_problems: int = 0

    def touch(self, start: int, end: int) -> None:
        self.first_ms = start if self.first_ms is None else min(self.first_ms, start)
        self.last_ms = end if self.last_ms is None else max(self.last_ms, end)

    def problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(problem)
        else:
            self.more_problems += 1


class _RowError(ValueError):
    def __init__(self, column: str, value: str, message: str):
        super().__init__(message)
        self.column, self.value = column, value


def _instant(column: str, value: str) -> int:
    try:
        return parse_instant(value)
    except InvalidTimestamp as e:
        raise _RowError(column, value, str(e)) from e


def _required(column: str, value: str) -> str:
    if not value:
        raise _RowError(column, value, f"{column} is required")
    return value


def parse_login(cells: list[str]) -> Session:
    session_id, user_id, email, client, login_at, logout_at = cells
    if client not in CLIENTS:
        raise _RowError("client", client, f"client must be one of {', '.join(sorted(CLIENTS))}")
    login, logout = _instant("login_at", login_at), _instant("logout_at", logout_at)
    if logout < login:
        raise _RowError("logout_at", logout_at, "logout_at is before login_at")
    return Session(
        _required("session_id", session_id),
        _required("user_id", user_id),
        email,
        client,
        login,
        logout,
    )


def parse_license(cells: list[str]) -> Assignment:
    user_id, email, product, assigned_at, unassigned_at = cells
    if product not in PRODUCTS:
        raise _RowError("product", product, f"product must be one of {', '.join(sorted(PRODUCTS))}")
    assigned = _instant("assigned_at", assigned_at)
    unassigned = _instant("unassigned_at", unassigned_at) if unassigned_at else OPEN_END
    if unassigned < assigned:
        raise _RowError("unassigned_at", unassigned_at, "unassigned_at is before assigned_at")
    return Assignment(_required("user_id", user_id), email, product, assigned, unassigned)


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
        raise _RowError(column, value, f"{column} must be a date YYYY-MM-DD: {value!r}") from e


def _choice(column: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise _RowError(column, value, f"{column} must be one of {', '.join(sorted(allowed))}")
    return value


def _quantity(column: str, value: str) -> Decimal:
    if not _QUANTITY.fullmatch(value):
        raise _RowError(
            column,
            value,
            f"{column} must be a plain decimal >= 0 like 12 or 3.5 "
            "(at most 12 digits before the point and 9 after)",
        )
    return Decimal(value)


def _seconds(column: str, value: str) -> int:
    if not _COUNT.fullmatch(value):
        raise _RowError(column, value, f"{column} must be a whole number >= 0 (at most 9 digits)")
    return int(value)


def _e164(column: str, value: str) -> str:
    if not _E164.fullmatch(value):
        raise _RowError(column, value, f"{column} must be E.164: + then 8 to 15 digits")
    return value


def _span(start_col: str, start: str, end_col: str, end: str) -> tuple[int, int]:
    """[start, end) of an inventory row; an empty end is OPEN_END (still active)."""
    start_ms = _instant(start_col, start)
    end_ms = _instant(end_col, end) if end else OPEN_END
    if end_ms < start_ms:
        raise _RowError(end_col, end, f"{end_col} is before {start_col}")
    return start_ms, end_ms


def parse_resource(cells: list[str]) -> ResourceUse:
    """4.2.3: `date,resource,quantity`."""
    day, resource, quantity = cells
    return ResourceUse(
        _day("date", day), _choice("resource", resource, RESOURCES), _quantity("quantity", quantity)
    )


def parse_device(cells: list[str]) -> Device:
    """4.2.4: `device_id,type,active_from,active_to`."""
    device_id, type_, active_from, active_to = cells
    _required("device_id", device_id)
    _choice("type", type_, DEVICE_TYPES)
    return Device(device_id, type_, *_span("active_from", active_from, "active_to", active_to))


def parse_number(cells: list[str]) -> PhoneNumber:
    """4.2.5: `number,type,acquired_at,released_at`."""
    number, type_, acquired_at, released_at = cells
    _e164("number", number)
    _choice("type", type_, NUMBER_TYPES)
    return PhoneNumber(
        number, type_, *_span("acquired_at", acquired_at, "released_at", released_at)
    )


class Price(NamedTuple):
    """What a call's deck row makes of it (R-deck-1, R-call-1)."""

    country: str
    service: str
    rate_per_minute: Decimal
    adjusted_duration_s: int
    cost: Decimal


# Prices (direction, origin, destination, duration_s); raises _RowError when nothing matches.
CallPricer: TypeAlias = Callable[[str, str, str, int], Price]


def call_parser(pricer: CallPricer) -> Callable[[list[str]], Call]:
    """4.2.6: `call_id,started_at,direction,origin,destination,duration_s`, priced as it is read
    with the decks in force at ingestion (R-deck-1)."""

    def parse_call(cells: list[str]) -> Call:
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


# Calls have no entry: they can only be read with the org's decks (read_usage's `parse`).
PARSERS: dict[str, Callable[[list[str]], UsageRow]] = {
    "logins": parse_login,
    "licenses": parse_license,
    "resources": parse_resource,
    "devices": parse_device,
    "numbers": parse_number,
}


def text_lines(raw: IO[bytes], gzipped: bool) -> Iterator[str]:
    """Decode a byte stream as UTF-8 lines, streaming; a leading byte-order mark is dropped."""
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]
    decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
    pending = ""
    while chunk := stream.read(1 << 20):
        pending += decoder.decode(chunk)
        # Lines end at LF, CRLF or CR only: str.splitlines would also split at U+2028, form feed
        # and other characters a CSV field may hold, and editors do not number them as lines.
        lines = io.StringIO(pending, newline="").readlines()
        pending = lines.pop() if lines and not lines[-1].endswith(("\n", "\r")) else ""
        # A CR at the very end may be the first half of a CRLF split across chunks.
        if lines and lines[-1].endswith("\r"):
            pending = lines.pop() + pending
        yield from lines
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def read_usage(
    kind: str,
    raw: IO[bytes],
    gzipped: bool,
    sink: Callable[[UsageRow], None],
    *,
    parse: Callable[[list[str]], UsageRow] | None = None,
) -> FileSummary:
    """Validate a usage file row by row, passing each valid row to `sink`.

    `parse` replaces the kind's parser in PARSERS; calls need one (`call_parser`), since they are
    priced as they are read (R-deck-1). Raises Rejected with every problem once the whole file
    has been read (R-ingest-1); the caller must discard what the sink received in that case.
    """
    parse = parse or PARSERS.get(kind)
    if parse is None:
        raise Rejected.one(
            f"{kind} cannot be priced: no rate deck is in force for the org (R-deck-1)"
        )
    summary = FileSummary()

    def keep(_line: int, row: UsageRow) -> None:
        summary.touch(*row.span)
        sink(row)

    read_csv(raw, gzipped, HEADERS[kind], parse, keep, summary)
    return summary


_Row = TypeVar("_Row")


def read_csv(
    raw: IO[bytes],
    gzipped: bool,
    header: str,
    parse: Callable[[list[str]], _Row],
    keep: Callable[[int, _Row], None],
    summary: FileSummary,
) -> None:
    """Read a CSV file with an exact header, streaming: each record's cells go to `parse`, and
    each parsed row with its line number to `keep`. Either may raise _RowError, which records a
    problem on that line in `summary`; once the whole file is read, any problem raises Rejected.
    """
    width = header.count(",") + 1
    try:
        lines = _numbered(text_lines(raw, gzipped))
        first = next(lines, None)
        if first is None:
            raise Rejected.one("empty file: no header line")
        if first[1].rstrip("\r\n") != header:
            raise Rejected.one(
                f"wrong header: expected {header!r}", line=1, value=first[1].rstrip("\r\n")[:200]
            )
        for number, cells in _records(lines):
            if len(cells) != width:
                summary.problem(Problem(f"expected {width} columns, found {len(cells)}", number))
                continue
            try:
                keep(number, parse(cells))
            except _RowError as e:
                summary.problem(Problem(str(e), number, e.column, e.value[:200]))
                continue
            summary.rows += 1
    except UnicodeDecodeError as e:
        raise Rejected.one(f"not UTF-8: {e.reason}") from e
    except (EOFError, OSError, zlib.error) as e:  # gzip raises these for a broken stream
        raise Rejected.one(f"broken gzip stream: {e}") from e
    except csv.Error as e:
        raise Rejected.one(f"malformed CSV: {e}") from e
    if summary.problems:
        raise Rejected(summary.problems, summary.more_problems)


def _numbered(lines: Iterator[str]) -> Iterator[tuple[int, str]]:
    return ((n, line) for n, line in enumerate(lines, start=1))


def _records(lines: Iterator[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """RFC 4180 records with the editor line number of their first line; blank lines skipped."""
    current: list[tuple[int, str]] = []

    def physical() -> Iterator[str]:
        for number, line in lines:
            current.append((number, line))
            yield line

    reader = csv.reader(physical(), strict=True)
    for cells in reader:
        start = current[0][0]
        current.clear()
        if not cells or cells == [""]:
            continue
        yield start, cells
