"""The columnar usage store's engine (SPEC 11): normalized batches as Parquet, read with DuckDB.

Each accepted upload becomes one Parquet file (zstd) of its kind's columns plus `upload_seq`,
the upload order, so that any reader (the close here, Athena across orgs) can resolve "latest
upload wins" (R-ingest-3) from the files alone. The schema below is the one source of the
files' columns: the Glue tables in template.yaml declare the same (tests/integration/
test_columnar.py compares them with a written file).

Decimals keep their exact digits: a quantity or a rate goes in as VARCHAR (str(Decimal) and
Decimal(str) round-trip digits and exponent, "3.50" stays "3.50"); a call's cost always has
exactly 4 places (decks.call_cost), which DECIMAL(38, 4) keeps exactly and Athena can sum.

DuckDB runs embedded, in memory, spilling to /tmp; it never loads an extension (Lambda cannot
download one): files move between S3 and /tmp through boto3.
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from sys import intern
from typing import IO, Any

import duckdb

from ..domain.usage_kinds import USAGE_KINDS, UsageKind

# How DuckDB and Parquet keep each of the kinds' column types (usage_kinds.kind.COLUMN_TYPES).
SQL_TYPES = {
    "text": "VARCHAR",
    "name": "VARCHAR",
    "instant": "BIGINT",
    "integer": "BIGINT",
    "decimal": "VARCHAR",  # exact digits: "3.50" stays "3.50"
    "cost": "DECIMAL(38,4)",  # R-call-1: always 4 places, which Athena can sum
}
# Column name -> DuckDB type, in the row's field order (the NamedTuple's _fields).
SCHEMAS: dict[str, tuple[tuple[str, str], ...]] = {
    kind.name: tuple(zip(kind.fields, [SQL_TYPES[c] for c in kind.columns], strict=True))
    for kind in USAGE_KINDS.values()
}
SEQ_COLUMN = ("upload_seq", "VARCHAR")  # every file's rows carry their upload's seq

# The columns of each kind's identity (R-usage-1, 4.2), as SQL.
IDENTITIES = {kind.name: kind.identity for kind in USAGE_KINDS.values()}

FETCH_ROWS = 50_000  # rows turned into Python objects at a time


def file_columns(kind: str) -> tuple[tuple[str, str], ...]:
    """A batch file's columns: the kind's, then upload_seq."""
    return (*SCHEMAS[kind], SEQ_COLUMN)


_DATABASE: duckdb.DuckDBPyConnection | None = None


def _database() -> duckdb.DuckDBPyConnection:
    """The process's in-memory DuckDB, made once per cold start (opening one takes ~60 ms),
    spilling to /tmp, sized for the Lambda it runs in."""
    global _DATABASE
    if _DATABASE is None:
        config: dict[str, Any] = {
            "temp_directory": os.path.join(tempfile.gettempdir(), "cxbill-duckdb"),
            "preserve_insertion_order": True,
            "autoload_known_extensions": False,
            "autoinstall_known_extensions": False,
        }
        # DuckDB's buffers grow to its limit (80% of the machine by default: a 5 M-row COPY
        # then peaks near 2 GB); bounded, it spills to /tmp and streams instead. In a Lambda
        # it gets 40% of the function's memory, leaving the rest to the Python rows.
        lambda_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        limit = int(lambda_mb) * 40 // 100 if lambda_mb and lambda_mb.isdigit() else 1024
        config["memory_limit"] = f"{limit}MB"
        threads = os.environ.get("CXBILL_DUCKDB_THREADS")
        if threads and threads.isdigit():
            config["threads"] = int(threads)
        _DATABASE = duckdb.connect(":memory:", config=config)
    return _DATABASE


def connect() -> duckdb.DuckDBPyConnection:
    """A connection of its own (its own temporary tables) to the process's database."""
    return _database().cursor()


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(_sql_string(v) for v in values) + "]"


# --- writing ------------------------------------------------------------------------------------


class CsvSpool:
    """Rows of one upload, spooled to a temporary CSV (str() of each field, as
    UsageKind.to_cells gives them) while the file is validated."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="cxbill-spool-")
        self.path = os.path.join(self.dir, "rows.csv")
        self.file: IO[str] = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        # csv.writer ends records with CRLF and quotes any field holding CR or LF. DuckDB reads
        # such a file exactly only when told the record end (CRLF) and, so that a quoted CR or LF
        # is data, with strict_mode off and one reader (tests/integration/test_columnar.py).
        self._writer = csv.writer(self.file)
        self.add: Callable[[Sequence[Any]], Any] = self._writer.writerow

    def finish(self) -> str:
        """The spooled CSV's path, flushed."""
        if not self.file.closed:
            self.file.close()
        return self.path

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def csv_to_parquet(kind: str, csv_path: str, seq: str, parquet_path: str) -> None:
    """COPY a spooled CSV of `kind` into one Parquet file (zstd), typed by SCHEMAS."""
    columns = SCHEMAS[kind]
    types = "{" + ", ".join(f"{_sql_string(n)}: {_sql_string(t)}" for n, t in columns) + "}"
    text = [n for n, t in columns if t == "VARCHAR"]  # an empty string stays '' (never NULL)
    source = (
        f"read_csv({_sql_string(csv_path)}, header = false, columns = {types}, delim = ',',"
        f" quote = '\"', escape = '\"', new_line = '\\r\\n', auto_detect = false,"
        f" strict_mode = false, parallel = false, force_not_null = {_sql_list(text)},"
        f" max_line_size = 4194304)"
    )
    with connect() as con:
        con.execute(
            f"COPY (SELECT *, {_sql_string(seq)} AS upload_seq FROM {source})"
            f" TO {_sql_string(parquet_path)} (FORMAT parquet, COMPRESSION zstd)"
        )


def describe_parquet(path: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a Parquet file."""
    with connect() as con:
        rows = con.execute(f"DESCRIBE SELECT * FROM read_parquet({_sql_string(path)})").fetchall()
    return [(r[0], r[1]) for r in rows]


# --- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchFile:
    """A batch downloaded to /tmp, in upload order (`ordinal`)."""

    ordinal: int
    path: str
    keep: bool  # its rows are candidates; else it only drops identities that moved away


def _builder(kind: UsageKind) -> Callable[[tuple], Any]:
    """A kind's row from DuckDB's typed values: what UsageKind.from_cells makes of the same
    row's cells (the same fields interned), without converting again what DuckDB already typed
    (BIGINT is int, DECIMAL is Decimal)."""
    convert = [_FROM_SQL.get(t) for t in kind.columns]
    make = kind.row._make  # type: ignore[attr-defined]
    if not any(convert):
        return make
    steps = [(i, f) for i, f in enumerate(convert) if f is not None]

    def build(values: tuple) -> Any:
        cells = list(values)
        for i, f in steps:
            cells[i] = f(cells[i])
        return make(cells)

    return build


_FROM_SQL: dict[str, Callable[[Any], Any]] = {"name": intern, "decimal": Decimal}
_BUILD = {kind.name: _builder(kind) for kind in USAGE_KINDS.values()}


def _rows(cursor: duckdb.DuckDBPyConnection, kind: str) -> list[Any]:
    build, rows = _BUILD[kind], list[Any]()
    while chunk := cursor.fetchmany(FETCH_ROWS):
        rows += map(build, chunk)
    return rows


def latest(kind: str, files: Sequence[BatchFile]) -> list[Any]:
    """The latest version of each identity over `files` (in upload order): an identity's rows
    in `keep` files are its versions; a later row in a file that is not kept drops it (its
    latest version lies elsewhere). Rows come in the order a dict keyed by identity, filled file
    by file and row by row, would give them (insertion order, reset by a drop)."""
    if not any(f.keep for f in files):
        return []
    columns = [n for n, _ in SCHEMAS[kind]]
    ident = IDENTITIES[kind]
    ids = ", ".join(ident)
    with connect() as con:
        candidates = _candidates(kind, files, columns)
        picked = ", ".join(c if c in ident else f"arg_max({c}, k) AS {c}" for c in columns)
        con.execute(
            f"SELECT {', '.join(columns)} FROM (SELECT {picked}, min(k) AS first_k"
            f" FROM ({candidates}) GROUP BY {ids}) ORDER BY first_k"
        )
        return _rows(con, kind)


def _candidates(kind: str, files: Sequence[BatchFile], columns: Sequence[str]) -> str:
    """SQL of every version of `columns` (with the identity's) in the kept `files` that no later
    unkept file drops, each with k, its place in upload order (file, then row within the file)."""
    kept = [f for f in files if f.keep]
    ident = IDENTITIES[kind]
    ids = ", ".join(ident)
    columns = list(dict.fromkeys([*ident, *columns]))
    dropped = [f for f in files if not f.keep and f.ordinal > kept[0].ordinal]
    # k orders every row: file, then row within the file. One scan per file with its ordinal
    # as a constant (cheaper than joining every row's file name to a table of files).
    kept_rows = " UNION ALL ".join(
        f"SELECT {', '.join(columns)}, ({int(f.ordinal)}::BIGINT << 32) | file_row_number AS k"
        f" FROM read_parquet({_sql_string(f.path)}, file_row_number = true)"
        for f in kept
    )
    if not dropped:
        return kept_rows
    drops = (
        f"SELECT {ids}, max(ordinal) AS dropped_at FROM ("
        + " UNION ALL ".join(
            f"SELECT {ids}, {int(f.ordinal)}::BIGINT AS ordinal"
            f" FROM read_parquet({_sql_string(f.path)})"
            for f in dropped
        )
        + ") GROUP BY ALL"
    )
    return (
        f"SELECT r.* FROM ({kept_rows}) r LEFT JOIN ({drops}) d USING ({ids})"
        f" WHERE d.dropped_at IS NULL OR (r.k >> 32) > d.dropped_at"
    )


def latest_sql(kind: str, files: Sequence[BatchFile], columns: Sequence[str]) -> str | None:
    """SQL of `columns` of the latest version of each identity over `files`, as `latest` picks
    it, in no particular order (for reductions that need none); None when no file is kept."""
    if not any(f.keep for f in files):
        return None
    ids = ", ".join(IDENTITIES[kind])
    return (
        f"SELECT {', '.join(columns)} FROM ({_candidates(kind, files, columns)})"
        f" QUALIFY row_number() OVER (PARTITION BY {ids} ORDER BY k DESC) = 1"
    )


def versions(kind: str, files: Sequence[BatchFile], identities: Iterable[Any]) -> list[Any]:
    """Every row of `files` whose identity is one of `identities`, file by file, row by row."""
    ident = IDENTITIES[kind]
    columns = [n for n, _ in SCHEMAS[kind]]
    if not files:
        return []
    with connect() as con:
        types = dict(SCHEMAS[kind])
        con.execute(
            "CREATE TEMP TABLE wanted (" + ", ".join(f"{c} {types[c]}" for c in ident) + ")"
        )
        wanted = [i if isinstance(i, tuple) else (i,) for i in identities]
        if not wanted:
            return []
        # one list parameter per identity column, unnested side by side
        unnested = ", ".join(f"unnest(${n + 1})" for n in range(len(ident)))
        con.execute(
            f"INSERT INTO wanted SELECT {unnested}",
            [list(column) for column in zip(*wanted, strict=True)],
        )
        con.execute("CREATE TEMP TABLE files (path VARCHAR, ordinal BIGINT)")
        con.executemany("INSERT INTO files VALUES (?, ?)", [(f.path, f.ordinal) for f in files])
        con.execute(
            f"SELECT {', '.join('p.' + c for c in columns)}"
            f" FROM read_parquet({_sql_list(f.path for f in files)}, filename = true,"
            f" file_row_number = true) p JOIN files f ON p.filename = f.path"
            f" SEMI JOIN wanted w USING ({', '.join(ident)})"
            f" ORDER BY f.ordinal, p.file_row_number"
        )
        return _rows(con, kind)


def download(body: IO[bytes], path: Path) -> None:
    with open(path, "wb") as out:
        shutil.copyfileobj(body, out, length=1024 * 1024)
