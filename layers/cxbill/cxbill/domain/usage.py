"""Usage files: bounded streaming CSV validation into normalized rows (section 4, R-ingest-1/2/6).

A file is read once, row by row; every row is checked and handed to a sink, and the problems of
the whole file are collected so that a bad file is rejected whole with every bad row listed. What
each kind of file holds is defined in usage_kinds; this module reads any of them.

Memory stays bounded by MAX_LINE_BYTES whatever the file holds (R-ingest-6): lines are split
from fixed-size reads, a line is never accumulated past the limit, and the file is never held.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, TypeVar

from .problems import MAX_REPORTED, Problem, Rejected, RowError
from .usage_kinds import (
    BILLABLE_CLIENTS,
    CLIENTS,
    DIRECTIONS,
    OPEN_END,
    PRODUCTS,
    USAGE_KINDS,
    Assignment,
    Call,
    CallPricer,
    Device,
    PhoneNumber,
    Price,
    ResourceUse,
    Session,
    UsageKind,
    UsageRow,
    call_parser,
    parse_device,
    parse_license,
    parse_login,
    parse_number,
    parse_resource,
)

__all__ = [
    "BILLABLE_CLIENTS",
    "CLIENTS",
    "DIRECTIONS",
    "HEADERS",
    "OPEN_END",
    "PARSERS",
    "PRODUCTS",
    "USAGE_KINDS",
    "Assignment",
    "Call",
    "CallPricer",
    "Device",
    "FileSummary",
    "PhoneNumber",
    "Price",
    "ResourceUse",
    "RowError",
    "Session",
    "UsageKey",
    "UsageKind",
    "UsageRow",
    "call_parser",
    "parse_device",
    "parse_license",
    "parse_login",
    "parse_number",
    "parse_resource",
    "parse_usage_key",
    "physical_lines",
    "read_csv",
    "read_usage",
]


# Views of USAGE_KINDS under their former names.
HEADERS = {name: kind.header for name, kind in USAGE_KINDS.items()}
PARSERS = {name: kind.parse for name, kind in USAGE_KINDS.items() if kind.parse is not None}

# R-ingest-6 bounds. Module constants, read at each call, so tests can make them small.
MAX_LINE_BYTES = 64 * 1024  # a physical line, or a record whose quoted field spans lines
MAX_FILE_BYTES = 2 * 1024**3  # what a usage upload may decompress to
MAX_ROWS = 10_000_000
READ_BYTES = 64 * 1024  # one read: with MAX_LINE_BYTES, all the reader ever holds

_KEY = re.compile(r"usage/(?P<org>[^/]+)/(?P<kind>[a-z]+)/[^/]+\.csv(?P<gz>\.gz)?")


@dataclass(frozen=True)
class UsageKey:
    org_id: str
    kind: str
    gzipped: bool


def parse_usage_key(key: str) -> UsageKey | None:
    m = _KEY.fullmatch(key)
    if not m or m["kind"] not in USAGE_KINDS:
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


def read_usage(
    kind: str,
    raw: IO[bytes],
    gzipped: bool,
    sink: Callable[[UsageRow], None],
    *,
    parse: Callable[[list[str]], UsageRow] | None = None,
) -> FileSummary:
    """Validate a usage file row by row, passing each valid row to `sink`.

    `parse` replaces the kind's own; calls need one (`call_parser`), since they are priced as
    they are read (R-deck-1). Raises Rejected with every problem once the whole file has been
    read (R-ingest-1); the caller must discard what the sink received in that case.
    """
    usage_kind: UsageKind = USAGE_KINDS[kind]
    parse = parse or usage_kind.parse
    if parse is None:
        raise Rejected.one(
            f"{kind} cannot be priced: no rate deck is in force for the org (R-deck-1)"
        )
    summary = FileSummary()

    def keep(_line: int, row: UsageRow) -> None:
        summary.touch(*row.span)
        sink(row)

    read_csv(raw, gzipped, usage_kind.header, parse, keep, summary)
    return summary


_Row = TypeVar("_Row")


class _Malformed(Exception):
    """A structural problem (a line too long, an unclosed quote, a byte that is not UTF-8):
    reading stops there, since where the next row begins is no longer known."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.problem = Problem(message, line)


def read_csv(
    raw: IO[bytes],
    gzipped: bool,
    header: str,
    parse: Callable[[list[str]], _Row],
    keep: Callable[[int, _Row], None],
    summary: FileSummary,
) -> None:
    """Read a CSV file with an exact header, streaming: each record's cells go to `parse`, and
    each parsed row with its line number to `keep`. Either may raise RowError, which records a
    problem on that line in `summary`; once the whole file is read, any problem raises Rejected.
    """
    width = header.count(",") + 1
    try:
        lines = physical_lines(raw, gzipped)
        _check_header(next(lines, None), header)
        for number, cells in _records(lines, 2):
            if len(cells) != width:
                summary.problem(Problem(f"expected {width} columns, found {len(cells)}", number))
                continue
            try:
                keep(number, parse(cells))
            except RowError as e:
                summary.problem(Problem(str(e), number, e.column, e.value[:200]))
                continue
            summary.rows += 1
    except _Malformed as e:
        summary.problem(e.problem)
    except (EOFError, OSError, zlib.error) as e:  # gzip raises these for a broken stream
        raise Rejected.one(f"broken gzip stream: {e}") from e
    if summary.problems:
        raise Rejected(summary.problems, summary.more_problems)


def _check_header(first: bytes | None, header: str) -> None:
    if first is not None and first.startswith(codecs.BOM_UTF8):
        first = first[len(codecs.BOM_UTF8) :]  # spreadsheet exports write one (4.1)
    if not first:  # a line read is never empty: it holds its line end, or is the last
        raise Rejected.one("empty file: no header line")
    if len(first) > MAX_LINE_BYTES:
        raise Rejected.one(f"line is longer than {MAX_LINE_BYTES:,} bytes (R-ingest-6)", line=1)
    try:
        text = first.decode().rstrip("\r\n")
    except UnicodeDecodeError as e:
        raise Rejected.one(f"not UTF-8: {e.reason}", line=1) from e
    if text != header:
        raise Rejected.one(f"wrong header: expected {header!r}", line=1, value=text[:200])


def physical_lines(raw: IO[bytes], gzipped: bool) -> Iterator[bytes]:
    """The file's physical lines with their line ends, streaming and bounded (R-ingest-6).

    Lines end at LF, CRLF or CR only, as a text editor numbers them (str.splitlines would also
    split at U+2028 and form feed, which a field may hold). A line longer than MAX_LINE_BYTES is
    cut just past the limit and is the last one given: the rest of the file is never read.
    """
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]
    limit, most, read_bytes = MAX_LINE_BYTES, MAX_FILE_BYTES, READ_BYTES
    pending = bytearray()  # a line whose end has not been read yet: at most limit + one read
    total = 0
    while chunk := stream.read(read_bytes):
        total += len(chunk)
        if total > most:
            raise Rejected.one(f"the file decompresses to more than {most:,} bytes (R-ingest-6)")
        lines = chunk.splitlines(keepends=True)
        if pending:
            # A held CR ends its line unless this read begins with the LF of a split CRLF.
            if pending.endswith(b"\r") and lines[0] != b"\n":
                lines.insert(0, bytes(pending))
            else:
                pending += lines[0]
                lines[0] = bytes(pending)
            pending.clear()
        if not lines[-1].endswith(b"\n"):  # unfinished, or a CR that may be half a CRLF
            pending += lines.pop()
        yield from lines
        if len(pending) > limit:
            yield bytes(pending[: limit + 1])
            return
    if pending:
        yield bytes(pending)


def _records(lines: Iterator[bytes], first: int) -> Iterator[tuple[int, list[str]]]:
    """RFC 4180 records numbered by the line they begin on (`first` is the number of the first
    line given); blank lines skipped. A record is one physical line, or several when a quoted
    field holds line breaks: either way at most MAX_LINE_BYTES long (R-ingest-6)."""
    limit, most_rows = MAX_LINE_BYTES, MAX_ROWS
    record: list[bytes] = []  # the physical lines of the record being read
    start = size = 0  # its first line's number and its length so far
    ended = False  # every line has been given

    def physical() -> Iterator[str]:
        nonlocal start, size, ended
        for number, line in enumerate(lines, first):
            if not record:
                start, size = number, 0
            record.append(line)
            size += len(line)
            if size > limit:
                raise _Malformed(f"line is longer than {limit:,} bytes (R-ingest-6)", start)
            try:
                text = line.decode()
            except UnicodeDecodeError as e:
                raise _Malformed(f"not UTF-8: {e.reason}", number) from e
            yield text
        ended = True

    rows = 0
    try:
        for cells in csv.reader(physical(), strict=True):
            record.clear()
            if not cells or cells == [""]:
                continue
            rows += 1
            if rows > most_rows:
                raise Rejected.one(f"the file holds more than {most_rows:,} rows (R-ingest-6)")
            yield start, cells
    except csv.Error as e:
        raise _malformed_csv(e, record, start, ended) from e


def _malformed_csv(error: csv.Error, record: list[bytes], start: int, ended: bool) -> _Malformed:
    """Name the line of a CSV error: for a quoted field still open when the file ended, the line
    where that field began; else the line being read."""
    if ended and record:
        line = _open_quote_line(record, start)
        return _Malformed(f"malformed CSV: the quote opened on line {line} is never closed", line)
    return _Malformed(f"malformed CSV: {error}", start + max(len(record) - 1, 0))


def _open_quote_line(record: list[bytes], start: int) -> int:
    """The line where the last quoted field of a record began (RFC 4180: a quote opens a field
    only at its start; inside one, a doubled quote is a quote)."""
    opened, quoted = start, False
    for number, line in enumerate(record, start):
        i = line.find(b'"')
        while i >= 0:
            if not quoted:
                if line[i - 1 : i] == b"," or (i == 0 and number == start):
                    quoted, opened = True, number
                i += 1  # else a quote inside an unquoted field: just a character
            elif line[i + 1 : i + 2] == b'"':
                i += 2  # a doubled quote inside the quoted field
            else:
                quoted = False
                i += 1
            i = line.find(b'"', i)
    return opened
