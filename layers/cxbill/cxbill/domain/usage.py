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
from decimal import Decimal
from typing import IO, NamedTuple, TypeAlias

from .contract import ADD_ONS, TIERS
from .instants import DAY_MS, InvalidTimestamp, parse_instant
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


# Which usage kinds are validated and billed today; the others are recorded as received.
HEADERS = {
    "logins": "session_id,user_id,email,client,login_at,logout_at",
    "licenses": "user_id,email,product,assigned_at,unassigned_at",
}
RECEIVED_ONLY = ("resources", "devices", "numbers", "calls")
_KEY = re.compile(r"usage/(?P<org>[^/]+)/(?P<kind>[a-z]+)/[^/]+\.csv(?P<gz>\.gz)?")


@dataclass(frozen=True)
class UsageKey:
    org_id: str
    kind: str
    gzipped: bool


def parse_usage_key(key: str) -> UsageKey | None:
    m = _KEY.fullmatch(key)
    if not m or m["kind"] not in (*HEADERS, *RECEIVED_ONLY):
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


PARSERS: dict[str, Callable[[list[str]], UsageRow]] = {
    "logins": parse_login,
    "licenses": parse_license,
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
    kind: str, raw: IO[bytes], gzipped: bool, sink: Callable[[UsageRow], None]
) -> FileSummary:
    """Validate a usage file row by row, passing each valid row to `sink`.

    Raises Rejected with every problem once the whole file has been read (R-ingest-1); the caller
    must discard what the sink received in that case.
    """
    parse, header = PARSERS[kind], HEADERS[kind]
    summary = FileSummary()
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
                row = parse(cells)
            except _RowError as e:
                summary.problem(Problem(str(e), number, e.column, e.value[:200]))
                continue
            summary.rows += 1
            summary.touch(*row.span)
            sink(row)
    except UnicodeDecodeError as e:
        raise Rejected.one(f"not UTF-8: {e.reason}") from e
    except (EOFError, OSError, zlib.error) as e:  # gzip raises these for a broken stream
        raise Rejected.one(f"broken gzip stream: {e}") from e
    except csv.Error as e:
        raise Rejected.one(f"malformed CSV: {e}") from e
    if summary.problems:
        raise Rejected(summary.problems, summary.more_problems)
    return summary


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
