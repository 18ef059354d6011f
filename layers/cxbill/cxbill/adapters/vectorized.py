"""Vectorized ingest (issue 8, item 2): a usage upload parsed, validated and written as its
normalized Parquet batch by DuckDB in one pass, whenever that is sure to give exactly what the
exact validator (domain/usage.py, row by row) gives.

The rule: this path may be stricter than the exact validator, never looser. It accepts a file
only when every byte of it has a shape whose meaning it can prove the same; on any doubt it
returns None ("not sure") and the ingest runs the exact validator, which accepts the file or
rejects it with its report and line numbers (R-ingest-1, R-ingest-6). So every rejection still
comes from the exact path, and a file both paths accept is stored as the same Parquet rows
(tests/integration/test_vectorized.py feeds both the same generated files).

One GET: the upload is decompressed once, with Python's gzip as the exact reader does, into a
body file in /tmp, while C-speed scans of the bytes check what DuckDB's reader would not:
- the header line is exactly the kind's (a byte-order mark before it allowed, 4.1);
- no `"` at all, so no quoted field: every record is one line, its cells the line split at
  commas (DuckDB's quote handling is looser than RFC 4180: `"a" ,b` reads as `a`);
- no NUL, strict UTF-8, at most MAX_FILE_BYTES decompressed;
- line ends all LF or all CRLF (a lone CR, or LF and CRLF mixed: not sure);
- the commas: exactly (width - 1) per row. DuckDB's reader ignores a trailing delimiter
  (`a,b,c,,` is read as three cells) where csv.reader finds five.
DuckDB then reads the body (no quote, no escape, strict), checks every cell in SQL as the kind's
parse does (the timestamp syntax of domain/instants with its calendar, clock and offset bounds;
required cells; allowed values; E.164; end >= start; line length) and COPYs the normalized rows
straight to the batch file, with csv_to_parquet's columns and types, upload_seq, and the file's
row order. A row that fails any check raises inside the COPY (error()), which aborts it.

Kinds: logins (the bulk of all usage), licenses, devices and numbers. Resources stay on the
exact path (a quantity is stored as str(Decimal(text)), whose exponent rules are not worth
copying into SQL for five rows a day), and so do calls: each call is priced from the org's rate
decks as it is read (R-deck-1), which needs the domain's pricer row by row.
"""

from __future__ import annotations

import codecs
import gzip
import os
import shutil
import tempfile
import zlib
from collections.abc import Hashable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import IO, Any

import duckdb

from ..domain import usage as exact  # its limits are read at each call (tests make them small)
from ..domain.contract import DEVICE_TYPES, NUMBER_TYPES
from ..domain.usage import CLIENTS, OPEN_END, PRODUCTS, USAGE_KINDS, FileSummary, UsageRow
from . import columnar

CHUNK_BYTES = 1024 * 1024  # one read of the decompressed upload
# zstd as every batch; without dictionaries, which DuckDB builds and then drops for a column of
# unique ids (session_id): the write takes a third of the time, the file is about as small.
PARQUET_OPTIONS = "COMPRESSION zstd, COMPRESSION_LEVEL 1, DICTIONARY_SIZE_LIMIT 1"
BOM = codecs.BOM_UTF8

# What each cell of a kind's header must hold, in header order; cell i becomes column i of the
# kind's batch (columnar.SCHEMAS). A copy of what usage_kinds' parse functions check: a check
# added there must be added here (else this path would be looser), and the property test of
# tests/integration/test_vectorized.py compares the two. A rule as the parse applies it:
#   text      any text                  required  not empty
#   choice    one of the given values   e164      + then 8 to 15 digits
#   instant   an ISO 8601 timestamp with an offset (instants.parse_instant), as epoch ms
#   end       an instant >= the row's first instant          (logins' logout_at)
#   open_end  the same, or empty for OPEN_END (still going)  (licenses, devices, numbers)
_RULES: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "logins": (
        ("required", ()),
        ("required", ()),
        ("text", ()),
        ("choice", tuple(sorted(CLIENTS))),
        ("instant", ()),
        ("end", ()),
    ),
    "licenses": (
        ("required", ()),
        ("text", ()),
        ("choice", tuple(sorted(PRODUCTS))),
        ("instant", ()),
        ("open_end", ()),
    ),
    "devices": (
        ("required", ()),
        ("choice", tuple(DEVICE_TYPES)),
        ("instant", ()),
        ("open_end", ()),
    ),
    "numbers": (
        ("e164", ()),
        ("choice", tuple(NUMBER_TYPES)),
        ("instant", ()),
        ("open_end", ()),
    ),
}
KINDS = frozenset(_RULES)

# instants.parse_instant's syntax and bounds: ASCII digits only (Python's \d also takes other
# scripts' digits: stricter here, so such a file goes to the exact path), year 0001 to 9999,
# month 01-12, day 01-31, hour <= 23, minute and second <= 59, an offset's hours <= 23 and
# minutes <= 59. Whether the date exists (Feb 30) DuckDB's cast decides: NULL if not.
_TIMESTAMP = (
    r"(?:[0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
    r"-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
)
_E164 = r"\+[0-9]{8,15}"


def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- the SQL --------------------------------------------------------------------------------------


def _instant_parts(c: str, p: str) -> list[str]:
    """The timestamp in cell `c` as columns `p_ok` (the syntax) and `p_us` (DuckDB's instant, in
    microseconds: NULL for a date that does not exist, like Feb 30 or a lowercase t or z it does
    not read; digits past the sixth are truncated, never rounded)."""
    return [
        f"regexp_full_match({c}, {_q(_TIMESTAMP)}) AS {p}_ok",
        f"epoch_us(TRY_CAST({c} AS TIMESTAMPTZ)) AS {p}_us",
    ]


def _instant_ok(p: str) -> str:
    return f"({p}_ok AND {p}_us IS NOT NULL)"


def _instant_ms(p: str) -> str:
    """Epoch milliseconds, the fraction truncated (floored, before 1970 too) as parse_instant
    does: the microseconds less their remainder are a whole number of milliseconds."""
    return f"(({p}_us - ((({p}_us % 1000) + 1000) % 1000)) // 1000)"


_INSTANTS = ("instant", "end", "open_end")


def _sql(kind: str, body: str, seq: str, line_limit: int) -> str:
    """One SELECT: the body's rows normalized, in file order; error() on any row that fails."""
    rules = _RULES[kind]
    schema = columnar.SCHEMAS[kind]
    cells = [f"c{i}" for i in range(len(rules))]
    types = ", ".join(f"{_q(c)}: 'VARCHAR'" for c in cells)
    source = (
        f"read_csv({_q(body)}, header = false, columns = {{{types}}}, delim = ',', quote = '',"
        f" escape = '', auto_detect = false, strict_mode = true, null_padding = false,"
        f" all_varchar = true, max_line_size = {max(2 * line_limit, 1 << 16)})"
    )
    # An empty cell is read as NULL: it is '' to the exact reader.
    raw = ", ".join(f"coalesce({c}, '') AS {c}" for c in cells)
    parts: list[str] = []
    checks: list[str] = []
    values: list[str] = []
    start = None  # the row's first instant cell
    # a record's bytes: its cells, the commas, and a line end (2 at most)
    checks.append(f"{' + '.join(f'strlen({c})' for c in cells)} + {len(cells) + 1} <= {line_limit}")
    for (rule, allowed), c in zip(rules, cells, strict=True):
        if rule == "text":
            values.append(c)
        elif rule == "required":
            checks.append(f"{c} <> ''")
            values.append(c)
        elif rule == "choice":
            checks.append(f"{c} IN ({', '.join(_q(a) for a in allowed)})")
            values.append(c)
        elif rule == "e164":
            checks.append(f"regexp_full_match({c}, {_q(_E164)})")
            values.append(c)
        else:  # instant, end, open_end
            parts += [c, *_instant_parts(c, f"{c}t")]
            ms = _instant_ms(f"{c}t")
            if rule == "instant":
                start = ms
                checks.append(_instant_ok(f"{c}t"))
                values.append(ms)
            elif rule == "end":
                assert start is not None
                checks.append(f"{_instant_ok(f'{c}t')} AND {ms} >= {start}")
                values.append(ms)
            else:  # open_end: empty is OPEN_END, which is never before the start
                assert start is not None
                checks.append(f"({c} = '' OR ({_instant_ok(f'{c}t')} AND {ms} >= {start}))")
                values.append(f"CASE WHEN {c} = '' THEN {OPEN_END} ELSE {ms} END")
    text_cells = [c for c, (rule, _) in zip(cells, rules, strict=True) if rule not in _INSTANTS]
    parsed = f"SELECT {', '.join(text_cells + parts)} FROM (SELECT {raw} FROM {source})"
    ok = " AND ".join(f"({c})" for c in checks)
    columns = []
    for n, ((name, sql_type), value) in enumerate(zip(schema, values, strict=True)):
        if n == 0:  # the guard: one column that every row computes; NULL (unsure) fails too
            value = f"CASE WHEN {ok} THEN {value} ELSE error('not sure') END"
        columns.append(f"CAST({value} AS {sql_type}) AS {name}")
    return (
        f"SELECT {', '.join(columns)}, {_q(seq)}::{columnar.SEQ_COLUMN[1]} AS"
        f" {columnar.SEQ_COLUMN[0]} FROM ({parsed})"
    )


# --- the bytes ------------------------------------------------------------------------------------


class _Unsure(Exception):
    """The file is of a shape this path does not prove: the exact validator decides."""


@dataclass
class _Scan:
    """What the byte checks count while the body is copied."""

    total: int = 0  # decompressed bytes, header included (R-ingest-6)
    commas: int = 0
    crlf: bool = False  # a CRLF line end was seen
    lone_lf: bool = False  # an LF without its CR was seen
    utf8: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")())

    def body(self, chunk: bytes) -> None:
        if b'"' in chunk or b"\x00" in chunk:
            raise _Unsure("a quote or a NUL")
        if not chunk.isascii() or self.utf8.getstate()[0]:
            self.utf8.decode(chunk)  # UnicodeDecodeError: not UTF-8
        if b"\r" in chunk:  # every CR must begin a CRLF, and every LF end one
            cr, crlf, lf = chunk.count(b"\r"), chunk.count(b"\r\n"), chunk.count(b"\n")
            if cr != crlf or lf != crlf:
                raise _Unsure("a lone CR or mixed line ends")
            self.crlf = True
        elif b"\n" in chunk:
            self.lone_lf = True
        if self.crlf and self.lone_lf:
            raise _Unsure("mixed line ends")
        self.commas += chunk.count(b",")


def _copy_body(raw: IO[bytes], gzipped: bool, header: str, out: IO[bytes]) -> _Scan:
    """Decompress the upload, check its header, and copy what follows the header line to `out`,
    checking every byte; raises _Unsure (or a gzip or UTF-8 error) on any doubt."""
    stream: IO[bytes] = gzip.GzipFile(fileobj=raw) if gzipped else raw  # type: ignore[assignment]
    most = exact.MAX_FILE_BYTES
    scan = _Scan()
    want = header.encode()
    head = b""
    while len(head) < len(BOM) + len(want) + 2:  # the header line and its line end
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        head += chunk
    scan.total = len(head)
    if scan.total > most:
        raise _Unsure("larger than the limit")
    if head.startswith(BOM):
        head = head[len(BOM) :]
    if not head.startswith(want) or len(want) + 2 > exact.MAX_LINE_BYTES:
        raise _Unsure("not the header line")
    rest = head[len(want) :]
    for end in (b"\r\n", b"\n"):  # a lone CR after the header: not sure
        if rest.startswith(end):
            rest = rest[len(end) :]
            break
    else:
        raise _Unsure("no line end after the header")
    if rest.startswith(BOM):  # DuckDB would drop it; to the exact reader it is text
        raise _Unsure("a byte-order mark after the header")
    carry = b""  # a CR that ended a read: its LF is in the next one
    chunk = rest
    while True:
        data = carry + chunk
        carry = b""
        if data.endswith(b"\r"):
            data, carry = data[:-1], b"\r"
        if data:
            scan.body(data)
            out.write(data)
        chunk = stream.read(CHUNK_BYTES)
        if not chunk:
            break
        scan.total += len(chunk)
        if scan.total > most:
            raise _Unsure("larger than the limit")
    if carry:
        raise _Unsure("a CR at the end")
    scan.utf8.decode(b"", final=True)
    return scan


# --- the port -------------------------------------------------------------------------------------


class BatchIdentities(AbstractSet[Hashable]):
    """The identities of a vectorized batch, kept in its Parquet file: the store looks up their
    stored versions in SQL (R-ingest-8) instead of a Python set of every row's identity."""

    def __init__(self, kind: str, path: str):
        self.kind, self.path = kind, path

    def _query(self, sql: str, *params: Any) -> list[tuple]:
        ident = ", ".join(columnar.IDENTITIES[self.kind])
        with columnar.connect() as con:
            return con.execute(
                sql.format(f"(SELECT DISTINCT {ident} FROM read_parquet({_q(self.path)}))"),
                list(params),
            ).fetchall()

    def __contains__(self, identity: object) -> bool:
        values = identity if isinstance(identity, tuple) else (identity,)
        ident = columnar.IDENTITIES[self.kind]
        where = " AND ".join(f"{c} IS NOT DISTINCT FROM ?" for c in ident)
        return bool(self._query(f"SELECT 1 FROM {{}} WHERE {where} LIMIT 1", *values))

    def __iter__(self) -> Iterator[Hashable]:
        for values in self._query("SELECT * FROM {}"):
            yield values if len(values) > 1 else values[0]

    def __len__(self) -> int:
        return self._query("SELECT count(*) FROM {}")[0][0]

    def __bool__(self) -> bool:
        return bool(self._query("SELECT 1 FROM {} LIMIT 1"))


@dataclass
class ParquetBatch:
    """A usage upload validated whole and written as its normalized batch (ports.VectorBatch)."""

    kind: str
    dir: str
    path: str  # the batch file, as csv_to_parquet would have written it
    summary: FileSummary
    late_before_ms: int
    identities: BatchIdentities

    @property
    def late(self) -> Iterator[UsageRow]:
        """The rows whose span starts before late_before_ms, in file order: read from the file
        a chunk at a time (a backfill of a closed period may be the whole file)."""
        start = columnar.SCHEMAS[self.kind][_span_columns(self.kind)[0]][0]
        names = ", ".join(n for n, _ in columnar.SCHEMAS[self.kind])
        row = USAGE_KINDS[self.kind].row
        with columnar.connect() as con:
            con.execute(
                f"SELECT {names} FROM read_parquet({_q(self.path)}, file_row_number = true)"
                f" WHERE {start} < ? ORDER BY file_row_number",
                [self.late_before_ms],
            )
            while chunk := con.fetchmany(columnar.FETCH_ROWS):
                yield from (row(*values) for values in chunk)

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class DuckDBReader:
    """ports.VectorizedReader: the whole upload at once in DuckDB, or None when not sure."""

    kinds = KINDS

    def read(
        self, kind: str, raw: IO[bytes], gzipped: bool, seq: str, late_before_ms: int
    ) -> ParquetBatch | None:
        if kind not in _RULES:
            return None
        scratch = tempfile.mkdtemp(prefix="cxbill-vector-")
        try:
            batch = _read(kind, raw, gzipped, seq, late_before_ms, scratch)
        except (_Unsure, duckdb.Error, UnicodeDecodeError, EOFError, OSError, zlib.error):
            batch = None  # the exact validator decides, and reports
        if batch is None:
            shutil.rmtree(scratch, ignore_errors=True)
        return batch


def _read(
    kind: str, raw: IO[bytes], gzipped: bool, seq: str, late_before_ms: int, scratch: str
) -> ParquetBatch | None:
    body = os.path.join(scratch, "body.csv")
    with open(body, "wb") as out:
        scan = _copy_body(raw, gzipped, USAGE_KINDS[kind].header, out)
    if os.path.getsize(body) == 0:
        return None  # nothing after the header: the exact path is as quick
    path = os.path.join(scratch, "batch.parquet")
    width = len(_RULES[kind])
    start, end = (columnar.SCHEMAS[kind][i][0] for i in _span_columns(kind))
    with columnar.connect() as con:
        con.execute(
            f"COPY ({_sql(kind, body, seq, exact.MAX_LINE_BYTES)}) TO {_q(path)}"
            f" (FORMAT parquet, {PARQUET_OPTIONS})"
        )
        os.remove(body)
        rows, first, last = con.execute(
            f"SELECT count(*), min({start}), max({end}) FROM read_parquet({_q(path)})"
        ).fetchone()  # type: ignore[misc]
        if rows == 0 or rows > exact.MAX_ROWS or scan.commas != (width - 1) * rows:
            return None  # a row with more cells than DuckDB kept, or past the row limit
    summary = FileSummary(rows=rows, first_ms=first, last_ms=last)
    return ParquetBatch(kind, scratch, path, summary, late_before_ms, BatchIdentities(kind, path))


def _span_columns(kind: str) -> tuple[int, int]:
    """The columns of a row's span: its first instant and its end."""
    rules = [rule for rule, _ in _RULES[kind]]
    first = rules.index("instant")
    return first, first + 1


def stored_versions(
    kind: str, files: Sequence[columnar.BatchFile], identities: BatchIdentities
) -> list[UsageRow]:
    """Every row of `files` whose identity is in the vectorized batch, file by file, row by
    row (what columnar.versions gives for a set of identities), joined in SQL."""
    if not files:
        return []
    ident = ", ".join(columnar.IDENTITIES[kind])
    columns = ", ".join(f"p.{n}" for n, _ in columnar.SCHEMAS[kind])
    paths = "[" + ", ".join(_q(f.path) for f in files) + "]"
    with columnar.connect() as con:
        con.execute("CREATE TEMP TABLE files (path VARCHAR, ordinal BIGINT)")
        con.executemany("INSERT INTO files VALUES (?, ?)", [(f.path, f.ordinal) for f in files])
        found = con.execute(
            f"SELECT {columns} FROM read_parquet({paths}, filename = true,"
            f" file_row_number = true) p JOIN files f ON p.filename = f.path"
            f" SEMI JOIN (SELECT DISTINCT {ident} FROM read_parquet({_q(identities.path)})) w"
            f" USING ({ident}) ORDER BY f.ordinal, p.file_row_number"
        ).fetchall()
    row = USAGE_KINDS[kind].row
    return [row(*values) for values in found]
