"""Usage files: streaming CSV validation (section 4.1, 4.2.1, 4.2.2, R-ingest-1, R-ingest-2)."""

from __future__ import annotations

import gzip
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxbill.domain.instants import parse_instant
from cxbill.domain.problems import MAX_REPORTED, Rejected
from cxbill.domain.usage import (
    HEADERS,
    OPEN_END,
    Assignment,
    Session,
    parse_usage_key,
    read_usage,
)

LOGINS = HEADERS["logins"]
LICENSES = HEADERS["licenses"]
T0 = "2026-01-15T09:00:00Z"
T1 = "2026-01-15T10:00:00Z"


class Trickle(io.RawIOBase):
    """A raw stream that hands out at most `size` bytes per read, like a slow socket."""

    def __init__(self, data: bytes, size: int = 7):
        self.data, self.size, self.pos = data, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        chunk = self.data[self.pos : self.pos + min(self.size, len(buffer))]
        buffer[: len(chunk)] = chunk
        self.pos += len(chunk)
        return len(chunk)


def read(kind: str, data: str | bytes, gzipped: bool = False, stream=io.BytesIO):
    raw = data.encode() if isinstance(data, str) else data
    rows: list = []
    summary = read_usage(kind, stream(raw), gzipped, rows.append)
    return summary, rows


def rejection(kind: str, data: str | bytes, gzipped: bool = False) -> Rejected:
    with pytest.raises(Rejected) as info:
        read(kind, data, gzipped)
    return info.value


def login_row(sid="s1", user="u1", client="web", login=T0, logout=T1, email="a@x.com") -> str:
    return f"{sid},{user},{email},{client},{login},{logout}"


def logins(*rows: str, newline: str = "\n") -> str:
    return newline.join([LOGINS, *rows]) + newline


def where(e: Rejected) -> list[tuple]:
    return [(p.line, p.column, p.value) for p in e.problems]


# --- accepted files -------------------------------------------------------------------------------


def test_logins_parsed_to_utc_millisecond_sessions():
    summary, rows = read(
        "logins", logins(login_row(login="2026-01-15T18:00:00.123999+09:00", logout=T1))
    )
    assert rows == [
        Session(
            "s1",
            "u1",
            "a@x.com",
            "web",
            parse_instant("2026-01-15T09:00:00.123Z"),
            parse_instant(T1),
        )
    ]
    assert summary.rows == 1
    assert (summary.first_ms, summary.last_ms) == (rows[0].login_ms, rows[0].logout_ms)
    assert summary.problems == []


def test_licenses_parsed_empty_unassigned_means_still_assigned():
    text = f"{LICENSES}\nu1,a@x.com,CX2,{T0},\nu1,a@x.com,DIGITAL,{T0},{T1}\n"
    summary, rows = read("licenses", text)
    assert rows == [
        Assignment("u1", "a@x.com", "CX2", parse_instant(T0), OPEN_END),
        Assignment("u1", "a@x.com", "DIGITAL", parse_instant(T0), parse_instant(T1)),
    ]
    assert rows[0].identity == ("u1", "CX2", parse_instant(T0))
    assert summary.rows == 2


def test_header_only_file_accepted_with_zero_rows():
    for text in (LOGINS, LOGINS + "\n", LOGINS + "\r\n", LOGINS + "\n\n\n"):
        summary, rows = read("logins", text)
        assert (summary.rows, rows, summary.first_ms) == (0, [], None)


def test_crlf_line_endings():
    summary, rows = read("logins", logins(login_row("s1"), login_row("s2"), newline="\r\n"))
    assert [r.session_id for r in rows] == ["s1", "s2"]
    assert rows[1].logout_ms == parse_instant(T1)  # no stray \r in the last cell


def test_byte_order_mark_ignored():
    summary, rows = read("logins", b"\xef\xbb\xbf" + logins(login_row()).encode())
    assert summary.rows == 1


def test_blank_lines_skipped_and_line_numbers_stay_editor_correct():
    text = logins("", login_row("s1"), "", "", login_row("s2", client="fax"), "")
    e = rejection("logins", text)
    # line 1 header, 2 blank, 3 s1, 4-5 blank, 6 the bad row
    assert where(e) == [(6, "client", "fax")]
    summary, rows = read("logins", logins("", login_row("s1"), "", "\r", login_row("s2"), ""))
    assert [r.session_id for r in rows] == ["s1", "s2"]


def test_quoted_fields_with_commas_and_newlines():
    text = logins(
        login_row("s1", email='"Doe, Jane\nline two"'),
        login_row("s2", email='"say ""hi"""'),
        login_row("s3", client="fax"),
    )
    e = rejection("logins", text)
    assert where(e) == [(5, "client", "fax")]  # the quoted newline spans lines 2 and 3
    _, rows = read("logins", text.replace("fax", "web"))
    assert [r.email for r in rows] == ["Doe, Jane\nline two", 'say "hi"', "a@x.com"]


def test_bad_row_spanning_lines_reported_at_its_first_line():
    text = logins(login_row("s1"), login_row("s2", email='"two\nlines"', client="fax"))
    assert where(rejection("logins", text)) == [(3, "client", "fax")]


def test_unicode_line_separator_inside_a_field_is_not_a_line_break():
    # str.splitlines() would split at U+2028, U+0085 and form feed; a text editor and RFC 4180
    # do not, so the row stays whole and later line numbers stay right.
    text = logins(
        login_row("s1", email="a\u2028b"),
        login_row("s2", email="c\x0cd\x85e"),
        login_row("s3", client="fax"),
    )
    assert where(rejection("logins", text)) == [(4, "client", "fax")]
    _, rows = read("logins", text.replace("fax", "web"))
    assert [r.email for r in rows] == ["a\u2028b", "c\x0cd\x85e", "a@x.com"]


def test_gzip_file_accepted():
    data = gzip.compress(logins(login_row("s1"), login_row("s2")).encode())
    summary, rows = read("logins", data, gzipped=True)
    assert [r.session_id for r in rows] == ["s1", "s2"]


@pytest.mark.parametrize("client", ["desktop", "web", "mobile", "api", "teams"])
def test_4_2_1_client_enum(client):
    _, (row,) = read("logins", logins(login_row(client=client)))
    assert row.client == client
    assert row.billable == (client in ("desktop", "web", "mobile"))


@pytest.mark.parametrize("product", ["CX1", "CX2", "CX3", "DIGITAL", "WEM"])
def test_4_2_2_product_enum(product):
    _, (row,) = read("licenses", f"{LICENSES}\nu1,,{product},{T0},{T1}\n")
    assert row.product == product


def test_4_2_1_zero_length_session_accepted():
    _, (row,) = read("logins", logins(login_row(login=T0, logout=T0)))
    assert row.login_ms == row.logout_ms


# --- rejected files (R-ingest-2) ------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "session_id,user_id,email,client,login,logout",
        "session_id,user_id,email,client,login_at",
        "SESSION_ID,USER_ID,EMAIL,CLIENT,LOGIN_AT,LOGOUT_AT",
        " session_id,user_id,email,client,login_at,logout_at",
        LICENSES,
    ],
)
def test_r_ingest_2_wrong_header_rejected(header):
    e = rejection("logins", f"{header}\n{login_row()}\n")
    assert [(p.line, p.value) for p in e.problems] == [(1, header)]
    assert "header" in e.problems[0].message


def test_r_ingest_2_missing_header_rejected():
    e = rejection("logins", login_row() + "\n")
    assert e.problems[0].line == 1
    assert "header" in e.problems[0].message


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf"])
def test_r_ingest_2_empty_file_rejected(data):
    assert "empty" in rejection("logins", data).problems[0].message


def test_r_ingest_2_blank_first_line_is_a_wrong_header():
    assert rejection("logins", "\n" + logins(login_row())).problems[0].line == 1


def test_r_ingest_2_non_utf8_byte_rejected():
    data = logins(login_row(email="x@x.com")).encode().replace(b"x@x", b"\xff@x")
    assert "UTF-8" in rejection("logins", data).problems[0].message


def test_r_ingest_2_latin1_file_rejected():
    data = logins(login_row(email="José")).encode("latin-1")
    assert "UTF-8" in rejection("logins", data).problems[0].message


@pytest.mark.parametrize(
    "data",
    [
        gzip.compress(logins(login_row()).encode())[:-12],  # truncated
        b"\x1f\x8b" + b"not really gzip",  # bad header
        logins(login_row()).encode(),  # not compressed at all
        gzip.compress(b"x" * 100)[:10] + b"\x00" * 30,  # corrupt body
    ],
)
def test_r_ingest_2_broken_gzip_rejected(data):
    assert "gzip" in rejection("logins", data, gzipped=True).problems[0].message


def test_r_ingest_2_unterminated_quote_rejected_not_a_crash():
    e = rejection("logins", logins(login_row(email='"never closed')))
    assert "CSV" in e.problems[0].message
    assert e.problems[0].line == 2  # where the quoted field began (R-ingest-6)


# --- invalid rows (R-ingest-1) --------------------------------------------------------------------


def test_r_ingest_1_every_bad_row_listed_with_line_column_value():
    text = logins(
        login_row("s1"),
        login_row("s2", client="Web"),
        login_row("s3", login="2026-01-15T09:00:00"),
        login_row("s4", login=T1, logout=T0),
        login_row("", user="u5"),
        login_row("s6", user=""),
        "s7,u7,a@x.com,web",
        login_row("s8", logout="2026-02-30T00:00:00Z"),
    )
    e = rejection("logins", text)
    assert where(e) == [
        (3, "client", "Web"),
        (4, "login_at", "2026-01-15T09:00:00"),
        (5, "logout_at", T0),
        (6, "session_id", ""),
        (7, "user_id", ""),
        (8, None, None),
        (9, "logout_at", "2026-02-30T00:00:00Z"),
    ]
    assert all(p.message for p in e.problems)
    assert e.more == 0
    assert e.problems[0].as_json() == {
        "message": e.problems[0].message,
        "line": 3,
        "column": "client",
        "value": "Web",
    }


def test_r_ingest_1_logout_before_login_rejected():
    e = rejection("logins", logins(login_row(login=T1, logout=T0)))
    assert where(e) == [(2, "logout_at", T0)]


def test_r_ingest_1_unassigned_before_assigned_rejected():
    e = rejection("licenses", f"{LICENSES}\nu1,a@x.com,CX1,{T1},{T0}\n")
    assert where(e) == [(2, "unassigned_at", T0)]


@pytest.mark.parametrize("product", ["CX4", "cx1", "Digital", ""])
def test_r_ingest_1_unknown_product_rejected(product):
    e = rejection("licenses", f"{LICENSES}\nu1,a@x.com,{product},{T0},\n")
    assert where(e) == [(2, "product", product)]


def test_r_ingest_1_license_row_problems():
    text = f"{LICENSES}\n,a@x.com,CX1,{T0},\nu2,b@x.com,CX1,2026-01-15,\nu3,c,CX1,{T0},{T0}\n"
    e = rejection("licenses", text)
    assert where(e) == [(2, "user_id", ""), (3, "assigned_at", "2026-01-15")]


def test_r_ingest_1_more_than_1000_bad_rows_lists_1000_and_counts_the_rest():
    bad = [login_row(f"s{i}", client="fax") for i in range(MAX_REPORTED + 5)]
    e = rejection("logins", logins(login_row("ok"), *bad))
    assert len(e.problems) == MAX_REPORTED
    assert e.more == 5
    assert (e.problems[0].line, e.problems[-1].line) == (3, MAX_REPORTED + 2)


def test_r_ingest_1_long_value_is_cut_in_the_report():
    e = rejection("logins", logins(login_row(client="x" * 500)))
    assert e.problems[0].value == "x" * 200


# --- streaming ------------------------------------------------------------------------------------

MESSY = (
    "\ufeff"
    + logins(
        login_row("s1", email='"Müller, Jürgen\r\nnext line"'),
        "",
        login_row("s2", email="日本語@example.jp"),
        login_row("s3", email="a\u2028b", client="mobile"),
        newline="\r\n",
    )
).encode()


@pytest.mark.parametrize("gzipped", [False, True])
def test_streaming_reader_with_seven_byte_chunks(gzipped):
    data = gzip.compress(MESSY) if gzipped else MESSY
    whole = read("logins", data, gzipped)
    trickled = read("logins", data, gzipped, stream=Trickle)
    assert trickled == whole
    assert [r.email for r in trickled[1]] == [
        "Müller, Jürgen\r\nnext line",
        "日本語@example.jp",
        "a\u2028b",
    ]


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=64))
def test_streaming_chunk_boundaries_never_change_rows_or_line_numbers(size):
    bad = MESSY + (login_row("s4", client="fax") + "\r\n").encode()
    with pytest.raises(Rejected) as info:
        read("logins", bad, stream=lambda raw: Trickle(raw, size))
    assert where(info.value) == [(7, "client", "fax")]
    assert read("logins", MESSY, stream=lambda raw: Trickle(raw, size)) == read("logins", MESSY)


# --- keys (4.1) -----------------------------------------------------------------------------------


def test_4_1_usage_keys():
    key = parse_usage_key("usage/acme-us/logins/2026-01.csv.gz")
    assert (key.org_id, key.kind, key.gzipped) == ("acme-us", "logins", True)
    assert parse_usage_key("usage/acme-us/licenses/a.csv").gzipped is False
    assert parse_usage_key("usage/acme-us/resources/a.csv").kind == "resources"
    assert parse_usage_key("usage/acme-us/sessions/a.csv") is None
    assert parse_usage_key("usage/acme-us/logins/a.json") is None
    assert parse_usage_key("usage/acme-us/logins/sub/a.csv") is None
    assert parse_usage_key("contracts/acme-us.json") is None
