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
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cxbill.adapters import columnar, vectorized
from cxbill.adapters.vectorized import DuckDBReader
from cxbill.domain import usage
from cxbill.domain.problems import Rejected
from cxbill.domain.usage import USAGE_KINDS

SEQ = "001772323200000#usage/acme/logins/a.csv#v1"
EPOCH_DAY = date(1970, 1, 1).toordinal()

# --- cells ------------------------------------------------------------------------------------

MIN_MS = (date(1, 1, 2).toordinal() - EPOCH_DAY) * 86_400_000  # offsets keep years 1 to 9999
MAX_MS = (date(9999, 12, 30).toordinal() - EPOCH_DAY) * 86_400_000
T2026 = 1_772_323_200_000  # 2026-03-01T00:00:00Z
DAY = 86_400_000
EDGES = [  # leap days, month ends, the epoch, the first and last years
    (date(y, m, d).toordinal() - EPOCH_DAY) * DAY + ms
    for y, m, d in [(2024, 2, 29), (2000, 2, 29), (1900, 2, 28), (2026, 12, 31), (1970, 1, 1)]
    for ms in (0, DAY - 1)
] + [MIN_MS, MAX_MS]
base_instants = st.one_of(
    st.integers(T2026 - 400 * DAY, T2026 + 400 * DAY),
    st.integers(MIN_MS, MAX_MS),
    st.sampled_from(EDGES),
)


@st.composite
def stamp(draw, ms: int, lower: bool = False) -> tuple[int, str]:
    """A timestamp cell for about the instant `ms` (a random offset, fraction length and case),
    and the instant the text really says (its fraction truncated to the ms)."""
    offset = draw(st.sampled_from([0, 0, 0, 60, -300, 330, -(23 * 60 + 59), 23 * 60 + 59]))
    local_ms = ms + offset * 60_000
    if not MIN_MS <= local_ms <= MAX_MS:
        offset, local_ms = 0, ms
    local = datetime(1970, 1, 1) + timedelta(milliseconds=local_ms)
    sep = "t" if lower else "T"
    text = (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d}{sep}"
        f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"
    )
    digits = draw(st.sampled_from([0, 0, 1, 2, 3, 3, 4, 6, 7, 9, 12]))
    fraction = f"{local_ms % 1000:03d}" + draw(st.text("0123456789", min_size=9, max_size=9))
    if digits:
        text += "." + fraction[:digits]
    if offset == 0 and draw(st.booleans()):
        text += "z" if lower else "Z"
    else:
        sign = "-" if offset < 0 else "+"
        text += f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    seconds = local_ms // 1000 - offset * 60
    millis = int(fraction[: min(digits, 3)].ljust(3, "0")) if digits else 0
    return seconds * 1000 + millis, text


BAD_TIMESTAMPS = [
    "2026-02-30T10:00:00Z",
    "2025-02-29T10:00:00Z",
    "2100-02-29T10:00:00Z",
    "2026-04-31T10:00:00Z",
    "2026-03-01T24:00:00Z",
    "2026-03-01T23:60:00Z",
    "2026-03-01T23:59:60Z",
    "2026-03-01T10:00:00+24:00",
    "2026-03-01T10:00:00-05:60",
    "2026-03-01T10:00:00",
    "2026-03-01 10:00:00Z",
    "2026-03-01T10:00:00+0530",
    "0000-01-01T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-00-10T00:00:00Z",
    "2026-03-00T00:00:00Z",
    "２０２６-03-01T10:00:00Z",  # other digits: valid to Python's \d, never to the fast path
    "2026-03-01T10:00:00.Z",
    " 2026-03-01T10:00:00Z",
    "2026-03-01T10:00:00Z ",
    "2026-3-01T10:00:00Z",
    "",
]
IDS = ["s1", "s2", "s3", "u-1", "é", "x" * 40, " pad ", "NULL", "\ufeffs", "s\t1"]
EMAILS = ["", "ana@acme.example", "é@x.example", " pad ", "#hash", "a\x0bb", "a\u2028b"]
CHOICES = {
    "logins": ("web", "desktop", "mobile", "api", "teams"),
    "licenses": ("CX1", "CX2", "CX3", "DIGITAL", "WEM"),
    "devices": ("physical_edge", "virtual_edge", "phone"),
    "numbers": ("did", "toll_free"),
}
NUMBERS = ["+15551234567", "+4420123456", "+123456789012345"]
START = {"logins": 4, "licenses": 3, "devices": 2, "numbers": 2}  # the first instant's cell


@st.composite
def valid_row(draw, kind: str) -> list[str]:
    """A row the exact validator accepts (unless its end falls before its start)."""
    start_ms = draw(base_instants)
    start_ms, start = draw(stamp(start_ms))
    end_ms = min(start_ms + draw(st.integers(-2, 10 * DAY)), MAX_MS)
    _, end = draw(stamp(end_ms))
    if draw(st.integers(0, 5)) == 0:
        end = start  # zero length
    if kind != "logins" and draw(st.integers(0, 3)) == 0:
        end = ""  # still going
    choice = draw(st.sampled_from(CHOICES[kind]))
    if kind == "logins":
        return [
            draw(st.sampled_from(IDS)),
            draw(st.sampled_from(IDS)),
            draw(st.sampled_from(EMAILS)),
            choice,
            start,
            end,
        ]
    if kind == "licenses":
        return [draw(st.sampled_from(IDS)), draw(st.sampled_from(EMAILS)), choice, start, end]
    if kind == "devices":
        return [draw(st.sampled_from(IDS)), choice, start, end]
    return [draw(st.sampled_from(NUMBERS)), choice, start, end]


# --- files ------------------------------------------------------------------------------------

DEFECTS = [
    "bad timestamp",
    "lowercase t or z",
    "empty id",
    "unknown value",
    "quoted cell",  # valid, quoted: left to the exact path
    "quote all",
    "cell short",
    "cell more",
    "trailing comma",
    "two trailing commas",
    "whitespace line",
    "blank lines",  # valid
    "CR line ends",
    "mixed line ends",
    "BOM",  # valid
    "BOM after header",
    "bad byte",
    "no final line end",  # valid
    "line limit",
    "row limit",
    "size limit",
]


@st.composite
def files(draw, kind: str) -> tuple[bytes, tuple[str, int] | None]:
    """A file of `kind`, valid or with one or two defects, and a limit of domain/usage to set."""
    rows = draw(st.lists(valid_row(kind), min_size=1, max_size=6))
    defects = draw(st.lists(st.sampled_from(DEFECTS), max_size=2)) if draw(st.booleans()) else []
    start = START[kind]
    at = draw(st.integers(0, len(rows) - 1))
    row = rows[at]
    if "bad timestamp" in defects:
        row[draw(st.sampled_from([start, start + 1]))] = draw(st.sampled_from(BAD_TIMESTAMPS))
    if "lowercase t or z" in defects:
        row[start] = draw(stamp(draw(base_instants), lower=True))[1]
    if "empty id" in defects:
        row[0] = ""
    if "unknown value" in defects:
        row[start - 1] = draw(st.sampled_from(["", "Web", "cx1", "did ", "toll-free"]))
        if kind == "numbers" and draw(st.booleans()):
            row[0] = draw(st.sampled_from(["15551234567", "+1234567", "+1234567890123456"]))
    if "quoted cell" in defects:
        row[0 if kind != "numbers" else 1] += draw(st.sampled_from([",x", '"', "\n", "\r\n", "\r"]))
    if "cell short" in defects:
        row.pop()
    if "cell more" in defects:
        row.append("x")
    quote_all = "quote all" in defects
    end = "\r\n" if draw(st.integers(0, 3)) == 0 else "\n"
    if "CR line ends" in defects:
        end = "\r"
    lines = [USAGE_KINDS[kind].header]
    for n, cells in enumerate(rows):
        text = ",".join(_cell(c, quote_all) for c in cells)
        if n == at and "trailing comma" in defects:
            text += ","
        if n == at and "two trailing commas" in defects:
            text += ",,"
        if n == at and "whitespace line" in defects:  # not blank to csv.reader: one cell
            lines.append(draw(st.sampled_from([" ", "\t", "\ufeff", "\x0b", "\u2028"])))
        if "blank lines" in defects and draw(st.booleans()):
            lines.append("")
        lines.append(text)
    ends = [end] * len(lines)
    if "mixed line ends" in defects:
        ends[draw(st.integers(0, len(ends) - 1))] = "\r\n" if end == "\n" else "\n"
    if "no final line end" in defects:
        ends[-1] = ""
    if "blank lines" in defects:
        lines.append("")
        ends.append(end)
    data = "".join(line + e for line, e in zip(lines, ends, strict=True)).encode()
    header = len(USAGE_KINDS[kind].header) + len(ends[0])
    if "BOM" in defects:
        data = codecs.BOM_UTF8 + data
    if "BOM after header" in defects:
        data = data[:header] + codecs.BOM_UTF8 + data[header:]
    if "bad byte" in defects:
        spot = draw(st.integers(header, len(data)))
        bad = draw(st.sampled_from([b"\xff", b"\xc3", b"\x00", b"\xed\xa0\x80", b"\xe2\x82"]))
        data = data[:spot] + bad + data[spot:]
    limit = None
    if "line limit" in defects:
        longest = max(len(line.encode()) + len(e) for line, e in zip(lines, ends, strict=True))
        limit = ("MAX_LINE_BYTES", longest + draw(st.integers(-2, 2)))
    elif "row limit" in defects:
        limit = ("MAX_ROWS", len(rows) - draw(st.integers(0, 1)))
    elif "size limit" in defects:
        limit = ("MAX_FILE_BYTES", len(data) - draw(st.integers(0, 1)))
    return data, limit


def _cell(value: str, quote_all: bool) -> str:
    if quote_all or any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


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
        assert list(batch.late) == [r for r in rows if r.span[0] < late_before]
        assert set(batch.identities) == {r.identity for r in rows}
    finally:
        batch.close()
    return True


KINDS = ("logins", "licenses", "devices", "numbers")


@pytest.mark.parametrize("kind", KINDS)
@settings(
    max_examples=int(os.environ.get("CXBILL_VECTORIZED_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_the_fast_path_never_accepts_what_the_exact_path_rejects(kind, data):
    body, limit = data.draw(files(kind))
    gzipped = data.draw(st.booleans())
    late_before = data.draw(st.sampled_from([-(2**62), 0, T2026, 2**62]))
    with ExitStack() as stack:
        if limit:
            stack.enter_context(mock.patch.object(usage, limit[0], limit[1]))
        event(f"fast path {'taken' if compare(kind, body, gzipped, late_before) else 'declined'}")


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


def test_the_rules_have_one_cell_per_header_column_and_one_batch_column_each():
    for kind in vectorized.KINDS:
        header = USAGE_KINDS[kind].header.split(",")
        assert len(vectorized._RULES[kind]) == len(header) == len(columnar.SCHEMAS[kind])


def test_calls_and_resources_always_take_the_exact_path():
    reader = DuckDBReader()
    assert {"calls", "resources"}.isdisjoint(reader.kinds)
    data = io.BytesIO(b"date,resource,quantity\n2026-03-01,storage_gb,3.50\n")
    assert reader.read("resources", data, False, SEQ, 0) is None


def test_stored_versions_of_a_vectorized_batch_are_joined_in_sql_as_for_a_set():
    """R-ingest-8: the identities of a vectorized batch stay in its file; the store's lookup of
    their stored versions gives what columnar.versions gives for the same identities as a set."""
    old = [
        "s1,u1,,web,2026-01-20T08:00:00Z,2026-01-20T09:00:00Z",
        "s2,u2,,web,2026-01-21T08:00:00Z,2026-01-21T09:00:00Z",
        "s9,u9,,web,2026-01-22T08:00:00Z,2026-01-22T09:00:00Z",
        "s1,u1,,api,2026-01-23T08:00:00Z,2026-01-23T09:00:00Z",
    ]
    new = (
        LOGINS
        + "\n"
        + "\n".join(USUAL)
        + "\ns2,u2,,web,2026-03-01T08:00:00Z,2026-03-01T09:00:00Z\n"
    )
    with tempfile.TemporaryDirectory() as scratch:
        files = []
        for n, rows in enumerate([old[:2], old[2:]]):
            path = os.path.join(scratch, f"{n}.parquet")
            _exact("logins", (LOGINS + "\n" + "\n".join(rows)).encode(), False, path)
            files.append(columnar.BatchFile(n, path, True))
        batch = DuckDBReader().read("logins", io.BytesIO(new.encode()), False, SEQ, 0)
        assert batch is not None
        try:
            found = vectorized.stored_versions("logins", files, batch.identities)
            assert found == columnar.versions("logins", files, set(batch.identities))
            assert [r.session_id for r in found] == ["s1", "s2", "s1"]
        finally:
            batch.close()
