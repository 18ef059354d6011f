"""The vectorized ingest (issue 8, adapters/vectorized.py) against the exact validator.

A property test feeds both the same generated files, valid and subtly invalid (impossible dates,
24:00, leap seconds, lowercase t and z, offsets, fractions of any length, BOM, CRLF, CR, mixed
line ends, blank lines, quoted fields with commas, newlines and doubled quotes, wrong column
counts, trailing commas, unknown values, empty ids, ends before starts, non-UTF-8 bytes, NUL,
lines near the length limit, row and size limits), and asserts:
- the fast path never accepts what the exact path rejects;
- when both accept, the Parquet batches hold the same rows (values, types, order), the file
  summaries are equal, and the late rows are the exact path's rows that start before the mark.
Then: the fast path really is taken for the usual shapes of a file (else it would be a no-op).
"""

from __future__ import annotations

import codecs
import gzip
import io
import os
import tempfile
from contextlib import ExitStack
from datetime import date, datetime, timedelta
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxbill.adapters import columnar
from cxbill.adapters.vectorized import DuckDBReader
from cxbill.domain import usage
from cxbill.domain.problems import Rejected
from cxbill.domain.usage import USAGE_KINDS

SEQ = "001772323200000#usage/acme/logins/a.csv#v1"
EPOCH_DAY = date(1970, 1, 1).toordinal()

# --- cells ------------------------------------------------------------------------------------


@st.composite
def instants(draw) -> tuple[int | None, str]:
    """A timestamp cell and its instant (None when it is not a valid one)."""
    if draw(st.integers(0, 5)) == 0:
        return None, draw(bad_timestamps)
    year = draw(st.sampled_from([1, 2, 1582, 1600, 1900, 1969, 1970, 2024, 2026, 9999]))
    month = draw(st.integers(1, 12))
    local = datetime(year, month, 1) + timedelta(
        days=draw(st.integers(0, 27)),
        hours=draw(st.integers(0, 23)),
        minutes=draw(st.integers(0, 59)),
        seconds=draw(st.integers(0, 59)),
        microseconds=draw(st.integers(0, 999_999)),
    )
    if draw(st.booleans()):
        local += timedelta(days=draw(st.integers(0, 3)))  # month ends, leap days
    if not 1 <= local.year <= 9999:
        local = datetime(2026, 3, 1)
    text = local.strftime("%Y-%m-%d") + draw(st.sampled_from("TTTt")) + local.strftime("%H:%M:%S")
    digits = draw(st.sampled_from([0, 0, 1, 2, 3, 3, 4, 6, 7, 9, 12]))
    fraction = f"{local.microsecond:06d}" + draw(st.text("0123456789", min_size=6, max_size=6))
    if digits:
        text += "." + fraction[:digits]
    offset = draw(st.sampled_from([None, None, 0, 60, -300, 330, -(23 * 60 + 59), 23 * 60 + 59]))
    if offset is None:
        text += draw(st.sampled_from("ZZZz"))
    else:
        sign = "-" if offset < 0 else "+"
        text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    days = local.date().toordinal() - EPOCH_DAY
    seconds = days * 86400 + local.hour * 3600 + local.minute * 60 + local.second
    seconds -= (offset or 0) * 60
    millis = int(fraction[: min(digits, 3)].ljust(3, "0")) if digits else 0
    return seconds * 1000 + millis, text


bad_timestamps = st.sampled_from(
    [
        "2026-02-30T10:00:00Z",
        "2025-02-29T10:00:00Z",
        "2026-04-31T10:00:00Z",
        "2026-03-01T24:00:00Z",
        "2026-03-01T23:60:00Z",
        "2026-03-01T23:59:60Z",
        "2026-03-01T10:00:00+24:00",
        "2026-03-01T10:00:00+05:60",
        "2026-03-01T10:00:00",
        "2026-03-01 10:00:00Z",
        "2026-03-01T10:00:00+0530",
        "0000-01-01T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-03-00T00:00:00Z",
        "２０２６-03-01T10:00:00Z",  # other digits: valid to Python's \\d, not to the fast path
        "2026-03-01T10:00:00.Z",
        " 2026-03-01T10:00:00Z",
        "2026-03-01T10:00:00Z ",
        "2026-3-01T10:00:00Z",
        "",
    ]
)
texts = st.sampled_from(
    ["a", "ana@acme.example", "é@x.example", " pad ", "", "x" * 70, "com,ma", 'q"uote', "li\nne"]
)
ids = st.sampled_from(["s1", "s2", "s3", "u-1", "", "s,4", 's"5', "é", " "])


def choice(values: tuple[str, ...]):
    return st.one_of(st.sampled_from(values), st.sampled_from(["", "Web", values[0] + " "]))


@st.composite
def span(draw, open_end: bool) -> list[str]:
    start_ms, start = draw(instants())
    end_ms, end = draw(instants())
    if open_end and draw(st.integers(0, 3)) == 0:
        end = ""
    elif start_ms is not None and end_ms is not None and draw(st.booleans()):
        end = start  # zero length
    return [start, end]


@st.composite
def cells(draw, kind: str) -> list[str]:
    if kind == "logins":
        head = [draw(ids), draw(ids), draw(texts), draw(choice(("web", "desktop", "api")))]
        return head + draw(span(False))
    if kind == "licenses":
        return [draw(ids), draw(texts), draw(choice(("CX1", "WEM"))), *draw(span(True))]
    if kind == "devices":
        return [draw(ids), draw(choice(("phone", "virtual_edge"))), *draw(span(True))]
    number = st.sampled_from(["+15551234567", "+4420123456", "+1234567", "15551234567", ""])
    return [draw(number), draw(choice(("did", "toll_free"))), *draw(span(True))]


# --- files ------------------------------------------------------------------------------------


def _cell(value: str, quote_all: bool) -> str:
    if quote_all or any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def files(draw, kind: str) -> bytes:
    header = USAGE_KINDS[kind].header
    rows = draw(st.lists(cells(kind), min_size=0, max_size=6))
    end = draw(st.sampled_from(["\n", "\n", "\r\n", "\r\n", "\r"]))
    quote_all = draw(st.integers(0, 6)) == 0
    lines = [header]
    for row in rows:
        mutation = draw(st.integers(0, 14))
        if mutation == 0:
            row = row[:-1]  # a cell short
        elif mutation == 1:
            row = [*row, "x"]
        text = ",".join(_cell(c, quote_all) for c in row)
        if mutation == 2:
            text += ","  # a trailing comma: one cell more
        elif mutation == 3:
            text += ",,"
        elif mutation == 4:
            lines.append("")  # a blank line
        elif mutation == 5:
            lines.append("  ")
        lines.append(text)
    parts = [line + (end if draw(st.integers(0, 15)) else "\n") for line in lines]
    if not draw(st.integers(0, 3)):
        parts[-1] = parts[-1].rstrip("\r\n")  # no line end at the end
    if not draw(st.integers(0, 3)):
        parts.append(end)  # a blank line at the end
    data = "".join(parts).encode()
    damage = draw(st.integers(0, 12))
    if damage == 0:
        data = codecs.BOM_UTF8 + data
    elif damage == 1 and len(data) > len(header) + 2:
        at = draw(st.integers(len(header) + 1, len(data) - 1))
        data = (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf"]))
            + data[at:]
        )
    elif damage == 2:
        data = data.replace(b"\n", b"\r\n", 1)
    return data


# --- both paths -------------------------------------------------------------------------------


def _exact(kind: str, data: bytes, gzipped: bool, parquet: str) -> list | None:
    """The rows the exact path accepts, and its batch written as the store writes it."""
    spool = columnar.CsvSpool()
    rows: list = []

    def keep(row) -> None:
        rows.append(row)
        spool.add(row)

    try:
        usage.read_usage(kind, io.BytesIO(data), gzipped, keep)
    except Rejected:
        return None
    finally:
        spool.finish()
    try:
        if rows:
            columnar.csv_to_parquet(kind, spool.path, SEQ, parquet)
    finally:
        spool.close()
    return rows


def _parquet(path: str) -> tuple[list, list]:
    with columnar.connect() as con:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet('{path}')").fetchall()
        rows = con.execute(f"SELECT * FROM read_parquet('{path}')").fetchall()
    return [(d[0], d[1]) for d in described], rows


def compare(kind: str, data: bytes, gzipped: bool, late_before: int) -> bool:
    """Both paths on one file; returns whether the fast path accepted it."""
    if gzipped:
        data = gzip.compress(data)
    batch = DuckDBReader().read(kind, io.BytesIO(data), gzipped, SEQ, late_before)
    if batch is None:
        return False
    try:
        with tempfile.TemporaryDirectory() as scratch:
            expected = os.path.join(scratch, "exact.parquet")
            rows = _exact(kind, data, gzipped, expected)
            assert rows is not None, "the fast path accepted a file the exact path rejects"
            assert rows, "the fast path accepted a file without rows"
            assert _parquet(batch.path) == _parquet(expected)
        assert batch.summary.rows == len(rows)
        assert batch.summary.first_ms == min(r.span[0] for r in rows)
        assert batch.summary.last_ms == max(r.span[1] for r in rows)
        assert batch.late == [r for r in rows if r.span[0] < late_before]
        assert set(batch.identities) == {r.identity for r in rows}
    finally:
        batch.close()
    return True


KINDS = ("logins", "licenses", "devices", "numbers")
LIMITS = st.sampled_from(
    [None, None, None, ("MAX_LINE_BYTES", 90), ("MAX_ROWS", 2), ("MAX_FILE_BYTES", 200)]
)


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=int(os.environ.get("CXBILL_VECTORIZED_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_fast_path_never_accepts_what_the_exact_path_rejects(kind, data):
    body = data.draw(files(kind))
    gzipped = data.draw(st.booleans())
    late_before = data.draw(st.sampled_from([-(2**62), 0, 1_772_323_200_000, 2**62]))
    limit = data.draw(LIMITS)
    with ExitStack() as stack:
        if limit:
            stack.enter_context(mock.patch.object(usage, limit[0], limit[1]))
        compare(kind, body, gzipped, late_before)


# --- the fast path is taken for the usual shapes ----------------------------------------------

LOGINS = USAGE_KINDS["logins"].header
USUAL = [
    "s1,u1,ana@acme.example,web,2026-03-01T08:00:00Z,2026-03-01T09:30:00Z",
    "s2,u2,,desktop,2026-03-01T08:00:00.5Z,2026-03-01T10:00:00.123456789+01:00",
    "s3,u1,é@acme.example,teams,2026-02-28T23:00:00-05:00,2026-03-01T05:00:00Z",
    "s1,u1,ana@acme.example,api,2024-02-29T00:00:00+00:00,2024-02-29T00:00:00+00:00",
]


@pytest.mark.parametrize(
    "data",
    [
        LOGINS + "\n" + "\n".join(USUAL) + "\n",
        LOGINS + "\r\n" + "\r\n".join(USUAL) + "\r\n",
        "\ufeff" + LOGINS + "\n" + "\n".join(USUAL),  # BOM, no final line end
        LOGINS + "\n\n" + "\n\n".join(USUAL) + "\n\n\n",  # blank lines
    ],
    ids=["lf", "crlf", "bom", "blank-lines"],
)
@pytest.mark.parametrize("gzipped", [False, True], ids=["plain", "gzip"])
def test_the_usual_files_take_the_fast_path_with_the_exact_rows(data, gzipped):
    assert compare("logins", data.encode(), gzipped, 1_772_323_200_000)


@pytest.mark.parametrize(
    "data",
    [
        LOGINS + "\n" + USUAL[0] + ",\n",  # csv.reader: 7 columns; DuckDB would drop the comma
        LOGINS + '\n"s1",u1,,web,2026-03-01T08:00:00Z,2026-03-01T09:00:00Z\n',  # a quote
        LOGINS + "\n" + USUAL[0] + "\r" + USUAL[1] + "\r",  # CR line ends
        LOGINS + "\n" + USUAL[0] + "\r\n" + USUAL[1] + "\n",  # mixed
        LOGINS + "\n" + USUAL[0].replace("T08", "t08") + "\n",  # valid, but not DuckDB's
        LOGINS + "\n\ufeff" + USUAL[0] + "\n",  # a BOM that is part of the session id
        LOGINS + "\n",  # no rows
    ],
)
def test_doubtful_files_are_left_to_the_exact_path(data):
    assert not compare("logins", data.encode(), False, 0)


def test_calls_and_resources_always_take_the_exact_path():
    reader = DuckDBReader()
    assert {"calls", "resources"}.isdisjoint(reader.kinds)
    data = io.BytesIO(b"date,resource,quantity\n2026-03-01,storage_gb,3.50\n")
    assert reader.read("resources", data, False, SEQ, 0) is None
