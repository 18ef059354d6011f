"""Hostile usage files are bounded (R-ingest-6), and every structural error names its line
(R-ingest-1, R-ingest-2)."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import zlib
from collections.abc import Iterable

import pytest

from cxbill.domain import usage
from cxbill.domain.problems import MAX_REPORTED, Rejected
from cxbill.domain.usage import HEADERS, read_usage

LOGINS = HEADERS["logins"]
T0 = "2026-01-15T09:00:00Z"
T1 = "2026-01-15T10:00:00Z"
KIB = 1024


def row(sid: str = "s1", email: str = "a@x.com", client: str = "web") -> str:
    return f"{sid},u1,{email},{client},{T0},{T1}"


def text(*rows: str) -> bytes:
    return ("\n".join([LOGINS, *rows]) + "\n").encode()


def rejection(data: bytes, gzipped: bool = False, stream=io.BytesIO) -> Rejected:
    with pytest.raises(Rejected) as info:
        read_usage("logins", stream(data), gzipped, lambda row: None)
    return info.value


def where(e: Rejected) -> list[tuple]:
    return [(p.line, p.column) for p in e.problems]


def gzip_of(pieces: Iterable[bytes]) -> bytes:
    """Compress without ever holding the uncompressed file."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header and trailer
    return b"".join([*(compressor.compress(p) for p in pieces), compressor.flush()])


def peak_memory(data: bytes, gzipped: bool) -> tuple[Rejected, int]:
    tracemalloc.start()
    try:
        e = rejection(data, gzipped)
        return e, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


class Endless(io.RawIOBase):
    """A stream of valid rows that never ends: only a limit can stop its reader."""

    def __init__(self, body: bytes):
        self.head, self.body, self.reads = text(), body, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.reads += 1
        chunk = self.head or self.body
        self.head = b""
        size = min(len(chunk), len(buffer))
        buffer[:size] = chunk[:size]
        return size


# --- lines longer than 64 KiB ---------------------------------------------------------------------


def test_r_ingest_6_line_over_64k_names_its_line():
    e = rejection(text(row("s1"), row("s2", email="x" * (64 * KIB)), row("s3")))
    assert where(e) == [(3, None)]
    assert "64" in e.problems[0].message or "65,536" in e.problems[0].message


def test_r_ingest_6_line_of_exactly_64k_accepted():
    line = row("s1", email="")
    email = "x" * (64 * KIB - len(line) - 1)  # the line with its LF is 64 KiB
    rows: list = []
    read_usage("logins", io.BytesIO(text(row("s1", email=email))), False, rows.append)
    assert rows[0].email == email


def test_r_ingest_6_other_bad_rows_before_a_long_line_are_listed_too():
    e = rejection(text(row("s1", client="fax"), "y" * (70 * KIB), row("s3", client="fax")))
    assert where(e) == [(2, "client"), (3, None)]  # reading stops at the long line


def test_r_ingest_6_long_header_line_named_line_1():
    e = rejection(b"x" * (100 * KIB) + b"\n" + text(row())[len(LOGINS) + 1 :])
    assert where(e) == [(1, None)]
    assert "longer" in e.problems[0].message


def test_r_ingest_6_newline_free_50mb_gzip_bomb_rejected_with_small_memory():
    data = gzip_of([LOGINS.encode() + b"\n", *(b"x" * (1 << 20) for _ in range(50))])
    assert len(data) < 100 * KIB
    e, peak = peak_memory(data, gzipped=True)
    assert where(e) == [(2, None)]
    assert peak < 1024 * KIB  # a few times the 64 KiB limit, never the 50 MB line


def test_r_ingest_6_quoted_field_spanning_lines_over_64k_names_the_line_where_it_began():
    spanning = 's2,u1,"' + "x" * 99 + "\n" + ("x" * 99 + "\n") * 700 + '",web,' + f"{T0},{T1}"
    e = rejection(text(row("s1"), spanning, row("s3")))
    assert where(e) == [(3, None)]


def test_r_ingest_6_50mb_quoted_field_of_short_lines_rejected_with_small_memory():
    opening = (LOGINS + "\n" + row("s1") + '\ns2,u1,"').encode()
    data = gzip_of([opening, *((b"x" * 99 + b"\n") * 10_000 for _ in range(50))])
    e, peak = peak_memory(data, gzipped=True)
    assert where(e) == [(3, None)]
    assert peak < 1024 * KIB


def test_r_ingest_6_line_limit_is_a_module_constant(monkeypatch):
    monkeypatch.setattr(usage, "MAX_LINE_BYTES", 100)
    monkeypatch.setattr(usage, "READ_BYTES", 7)  # lines cross reads, too
    e = rejection(text(row("s1"), row("s2", email="x" * 60), row("s3")))
    assert where(e) == [(3, None)]


def test_r_ingest_6_long_line_is_not_read_past_the_limit():
    stream = Endless(b"x" * KIB)  # one line that never ends
    with pytest.raises(Rejected) as info:
        read_usage("logins", stream, False, lambda row: None)
    assert where(info.value) == [(2, None)]
    assert stream.reads < 200


# --- unterminated quotes --------------------------------------------------------------------------


def test_r_ingest_6_unterminated_quote_names_the_line_where_the_field_began():
    e = rejection(text(row("s1"), row("s2", email='"never closed'), row("s3"), row("s4")))
    assert where(e) == [(3, None)]
    assert "never closed" in e.problems[0].message
    assert "CSV" in e.problems[0].message


def test_r_ingest_6_unterminated_quote_after_a_closed_multiline_field():
    # line 3 opens a field closed on line 4, which opens another that is never closed
    e = rejection(text(row("s1"), 's2,u1,"two', 'lines",web,"x', "y"))
    assert where(e) == [(4, None)]


def test_r_ingest_6_quote_inside_an_unquoted_field_is_a_character():
    rows: list = []
    read_usage("logins", io.BytesIO(text(row("s1", email='5" screen'))), False, rows.append)
    assert rows[0].email == '5" screen'
    e = rejection(text(row("s1", email='5" screen'), 's2,u1,"a""', "b"))
    assert where(e) == [(3, None)]


def test_r_ingest_6_unterminated_quote_keeps_the_bad_rows_before_it():
    e = rejection(text(row("s1", client="fax"), row("s2", email='"open')))
    assert where(e) == [(2, "client"), (3, None)]


# --- files too large or too long ------------------------------------------------------------------


def test_r_ingest_6_file_decompressing_past_the_limit_rejected_as_a_whole(monkeypatch):
    monkeypatch.setattr(usage, "MAX_FILE_BYTES", 100 * KIB)
    stream = Endless((row() + "\n").encode())
    with pytest.raises(Rejected) as info:
        read_usage("logins", stream, False, lambda row: None)
    (problem,) = info.value.problems
    assert problem.line is None
    assert "decompresses to more than" in problem.message
    assert stream.reads < 100 * KIB  # stopped as soon as the limit was passed


def test_r_ingest_6_gzip_file_limit_counts_decompressed_bytes(monkeypatch):
    monkeypatch.setattr(usage, "MAX_FILE_BYTES", 10 * KIB)
    small = text(*(row(f"s{i}") for i in range(10)))
    assert len(small) < 10 * KIB
    read_usage("logins", io.BytesIO(gzip.compress(small)), True, lambda row: None)
    big = text(*(row(f"s{i}") for i in range(1000)))
    e = rejection(gzip.compress(big), gzipped=True)
    assert where(e) == [(None, None)]


def test_r_ingest_6_file_with_too_many_rows_rejected_as_a_whole(monkeypatch):
    monkeypatch.setattr(usage, "MAX_ROWS", 5)
    rows: list = []
    read_usage("logins", io.BytesIO(text(*(row(f"s{i}") for i in range(5)))), False, rows.append)
    assert len(rows) == 5  # exactly the limit is accepted
    stream = Endless((row() + "\n").encode())
    with pytest.raises(Rejected) as info:
        read_usage("logins", stream, False, lambda row: None)
    (problem,) = info.value.problems
    assert (problem.line, "more than 5 rows" in problem.message) == (None, True)


def test_r_ingest_6_blank_lines_are_not_rows(monkeypatch):
    monkeypatch.setattr(usage, "MAX_ROWS", 2)
    summary = read_usage(
        "logins", io.BytesIO(text("", row("s1"), "", "", row("s2"), "")), False, [].append
    )
    assert summary.rows == 2


def test_r_ingest_6_bad_rows_count_toward_the_row_limit(monkeypatch):
    monkeypatch.setattr(usage, "MAX_ROWS", 3)
    e = rejection(text(*(row(f"s{i}", client="fax") for i in range(4))))
    assert where(e) == [(None, None)]


# --- every structural error names its line (R-ingest-2) -------------------------------------------


def test_r_ingest_2_non_utf8_byte_names_its_line():
    data = text(row("s1"), row("s2"), row("s3", email="x@x.com")).replace(b"x@x", b"\xff@x")
    e = rejection(data)
    assert where(e) == [(4, None)]
    assert "UTF-8" in e.problems[0].message


def test_r_ingest_2_non_utf8_header_names_line_1():
    assert where(rejection(b"\xff" + text(row()))) == [(1, None)]


def test_r_ingest_2_malformed_quote_names_its_line():
    e = rejection(text(row("s1"), row("s2"), row("s3", email='"a"b')))
    assert where(e) == [(4, None)]
    assert "CSV" in e.problems[0].message


def test_r_ingest_2_malformed_quote_after_a_multiline_field_names_the_line_read():
    e = rejection(text(row("s1"), 's2,u1,"a', 'b"c,web'))
    assert where(e) == [(4, None)]


def test_r_ingest_1_a_structural_error_past_1000_bad_rows_is_counted():
    bad = [row(f"s{i}", client="fax") for i in range(MAX_REPORTED)]
    e = rejection(text(*bad, row("s", email='"open')))
    assert (len(e.problems), e.more) == (MAX_REPORTED, 1)


# --- what keeps working ---------------------------------------------------------------------------


@pytest.mark.parametrize("read_bytes", [1, 2, 3, 5, 64 * KIB])
def test_crlf_bom_blank_and_quoted_newlines_across_any_read_size(monkeypatch, read_bytes):
    monkeypatch.setattr(usage, "READ_BYTES", read_bytes)
    data = (
        b"\xef\xbb\xbf"
        + (
            "\r\n".join([LOGINS, row("s1", email='"a\r\nb"'), "", row("s2"), "\r"]) + "\r\n"
        ).encode()
    )
    for gzipped, body in ((False, data), (True, gzip.compress(data))):
        rows: list = []
        read_usage("logins", io.BytesIO(body), gzipped, rows.append)
        assert [(r.session_id, r.email) for r in rows] == [("s1", "a\r\nb"), ("s2", "a@x.com")]
    bad = data + (row("s3", client="fax") + "\r\n").encode()
    assert where(rejection(bad)) == [(8, "client")]
