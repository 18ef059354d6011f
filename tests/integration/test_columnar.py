"""The columnar usage store (issue 8, SPEC 11): Parquet batches resolved in SQL.

- a differential property test: `columnar.latest` (DuckDB over Parquet files) returns exactly
  what the row-by-row algorithm of the former gzip-CSV store returned, in the same order, with
  the same types and digits, on random batch sets of every kind;
- the store on the local stack: the Hive layout, one index item per upload, stored versions;
- the Glue tables of template.yaml declare exactly the columns and types of the written files.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Hashable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxbill.adapters import columnar
from cxbill.adapters.usage_store import S3UsageStore, Spool, batch_key, batch_name
from cxbill.domain.ports import Upload
from cxbill.domain.usage import (
    OPEN_END,
    USAGE_KINDS,
    Assignment,
    Call,
    Device,
    FileSummary,
    PhoneNumber,
    ResourceUse,
    Session,
)
from cxbill.jobs import wiring
from cxbill_local.stack import load_template

# --- the former store's read, kept here as the reference ------------------------------------


def reference_load(batches: Sequence[tuple[int, int, list]], start: int, end: int) -> list:
    """The gzip-CSV store's load, verbatim but over in-memory batches (first, last, rows) in
    upload order."""
    touching = [n for n, (first, last, _) in enumerate(batches) if first < end and last >= start]
    if not touching:
        return []
    latest: dict[Hashable, Any] = {}
    for n in range(touching[0], len(batches)):
        keep = n in touching
        for row in batches[n][2]:
            if keep:
                latest[row.identity] = row
            else:
                latest.pop(row.identity, None)
    return list(latest.values())


# --- rows of every kind, from small pools so that identities repeat --------------------------

T0 = 1_768_435_200_000  # 2026-01-15T00:00:00Z
HOUR = 3_600_000
texts = st.sampled_from(["", "a", "ana@x.example", 'q"uote', "com,ma", "line\nbreak", "cr\rx", "é"])
ids = st.sampled_from(["s1", "s2", "s3", "s4", "s5", "s,6", 's"7'])
instants = st.integers(0, 40).map(lambda h: T0 + h * HOUR + 123)
ends = st.one_of(st.just(OPEN_END), st.integers(0, 60).map(lambda h: T0 + h * HOUR))
quantities = st.sampled_from(["0", "3.50", "3.5", "12", "0.000000001", "999999999999.999999999"])
costs = st.integers(0, 10**9).map(lambda units: Decimal(f"{units}E-4"))


def _session(draw) -> Session:
    login = draw(instants)
    return Session(
        draw(ids),
        draw(texts),
        draw(texts),
        draw(st.sampled_from(["web", "api"])),
        login,
        login + draw(st.integers(0, 5)) * HOUR,
    )


ROWS = {
    "logins": st.composite(lambda draw: _session(draw))(),
    "licenses": st.builds(
        Assignment, ids, texts, st.sampled_from(["CX1", "CX3", "DIGITAL"]), instants, ends
    ),
    "resources": st.builds(
        ResourceUse,
        st.integers(0, 3).map(lambda d: T0 + d * 24 * HOUR),
        st.sampled_from(["storage_gb", "ivr_minutes"]),
        quantities.map(Decimal),
    ),
    "devices": st.builds(Device, ids, st.sampled_from(["phone", "virtual_edge"]), instants, ends),
    "numbers": st.builds(
        PhoneNumber, st.sampled_from(["+15550001", "+15550002"]), st.just("did"), instants, ends
    ),
    "calls": st.builds(
        Call,
        ids,
        instants,
        st.sampled_from(["inbound", "outbound"]),
        st.just("+15550001"),
        st.sampled_from(["+15550002", "+4420000000"]),
        st.integers(0, 10**9),
        st.sampled_from(["US", "GB"]),
        st.sampled_from(["inbound", "outbound", "extended_outbound"]),
        st.sampled_from(["0.01", "0.0100", "0.123456", "0"]).map(Decimal),
        st.integers(0, 10**9),
        costs,
    ),
}


SAMPLES = {
    "logins": Session("s1", "u1", "a@x", "web", T0, T0 + HOUR),
    "licenses": Assignment("u1", "a@x", "CX1", T0, OPEN_END),
    "resources": ResourceUse(T0, "storage_gb", Decimal("3.50")),
    "devices": Device("d1", "phone", T0, OPEN_END),
    "numbers": PhoneNumber("+15550001", "did", T0, T0 + HOUR),
    "calls": Call(
        "c1",
        T0,
        "outbound",
        "+15550001",
        "+15550002",
        61,
        "US",
        "outbound",
        Decimal("0.0100"),
        66,
        Decimal("0.0110"),
    ),
}


def same(a: Any, b: Any) -> bool:
    """Equal, field by field, with the same types and the same digits (str) for Decimals."""
    return type(a) is type(b) and all(
        type(x) is type(y) and x == y and str(x) == str(y) for x, y in zip(a, b, strict=True)
    )


def write_files(kind: str, batches: Sequence[list], into: str) -> list[str]:
    paths = []
    for n, rows in enumerate(batches):
        spool = Spool()
        try:
            for row in rows:
                spool.add(row)
            path = str(Path(into) / f"{n}.parquet")
            columnar.csv_to_parquet(kind, spool.finish(), f"{n:015d}#k#v", path)
        finally:
            spool.close()
        paths.append(path)
    return paths


def columnar_load(kind: str, batches: Sequence[tuple[int, int, list]], start: int, end: int):
    """What S3UsageStore.load does once the index is read: the same choice of files."""
    touching = [first < end and last >= start for first, last, _ in batches]
    if not any(touching):
        return []
    first = touching.index(True)
    scratch = tempfile.mkdtemp()
    try:
        paths = write_files(kind, [rows for _, _, rows in batches[first:]], scratch)
        files = [
            columnar.BatchFile(first + n, path, touching[first + n]) for n, path in enumerate(paths)
        ]
        return columnar.latest(kind, files)
    finally:
        shutil.rmtree(scratch)


def batch_sets(kind: str):
    rows = st.lists(ROWS[kind], min_size=1, max_size=8)

    def with_span(batch: list) -> tuple[int, int, list]:
        summary = FileSummary()
        for row in batch:
            summary.touch(*row.span)
        return summary.first_ms, summary.last_ms, batch  # as the ingest records it

    return st.lists(rows.map(with_span), min_size=1, max_size=5)


windows = st.tuples(st.integers(0, 48), st.integers(1, 48)).map(
    lambda w: (T0 + w[0] * HOUR, T0 + (w[0] + w[1]) * HOUR)
)


@pytest.mark.parametrize("kind", sorted(USAGE_KINDS))
def test_latest_in_sql_equals_the_former_row_by_row_load(kind):
    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(batches=batch_sets(kind), window=windows)
    def check(batches, window):
        expected = reference_load(batches, *window)
        got = columnar_load(kind, batches, *window)
        assert len(got) == len(expected)
        assert all(same(g, e) for g, e in zip(got, expected, strict=True)), (got, expected)

    check()


def test_latest_interns_the_strings_that_repeat():
    rows = [
        Session(f"s{n}", "".join(["u", "1"]), "".join(["a", "@x"]), "web", T0, T0) for n in (1, 2)
    ]
    (first, second) = columnar_load("logins", [(T0, T0, rows)], T0, T0 + 1)
    assert first.user_id is second.user_id
    assert first.email is second.email
    assert first.client is second.client


@pytest.mark.parametrize("kind", sorted(USAGE_KINDS))
def test_rows_from_duckdb_are_what_from_cells_makes(kind):
    """The same values, types and digits, and the same fields interned, as decoding the row's
    cells (UsageKind.from_cells, the former store's decoder)."""
    usage_kind, sample = USAGE_KINDS[kind], SAMPLES[kind]
    first = sample[0]
    two = [  # two identities: the first field (an id, or the day of a resource) differs
        sample._replace(
            **{sample._fields[0]: first + n if isinstance(first, int) else f"{first}{n}"}
        )
        for n in (1, 2)
    ]
    loaded = columnar_load(kind, [(T0 - 1, OPEN_END, two)], T0, T0 + 1)
    decoded = [usage_kind.from_cells(["".join(c) for c in usage_kind.to_cells(r)]) for r in two]
    assert all(same(a, b) for a, b in zip(loaded, decoded, strict=True))

    def shared(rows: list) -> list[bool]:
        return [a is b for a, b in zip(*rows, strict=True)]

    assert shared(loaded)[1:] == shared(decoded)[1:]


def test_latest_of_nothing_kept_is_empty():
    assert columnar.latest("logins", []) == []


def test_schemas_follow_the_row_types():
    for kind, usage_kind in USAGE_KINDS.items():
        assert tuple(n for n, _ in columnar.SCHEMAS[kind]) == usage_kind.row._fields
        row = SAMPLES[kind]
        identity = row.identity if isinstance(row.identity, tuple) else (row.identity,)
        by_name = dict(zip(usage_kind.row._fields, row, strict=True))
        assert tuple(by_name[c] for c in columnar.IDENTITIES[kind]) == identity


# --- the store on the local stack ----------------------------------------------------------


def _upload(key: str, ms: int, version: str = "v1") -> Upload:
    return Upload(key, version, ms)


def _save(store: S3UsageStore, org: str, kind: str, upload: Upload, rows: list) -> None:
    spool, summary = store.spool(), FileSummary()
    try:
        for row in rows:
            spool.add(row)
            summary.touch(*row.span)
            summary.rows += 1
        store.save_batch(org, kind, upload, spool, summary)
    finally:
        spool.close()


def test_store_writes_hive_layout_parquet_and_resolves_latest_upload(cloud):
    store = S3UsageStore(wiring.settings())
    first = _upload("usage/acme/logins/jan.csv", T0)
    again = _upload("usage/acme/logins/fix.csv.gz", T0 + HOUR, "v/2")
    s1 = Session("s1", "u1", "a@x", "web", T0, T0 + HOUR)
    s2 = Session("s2", "u2", "", "desktop", T0, T0 + 2 * HOUR)
    s1_moved = s1._replace(login_ms=T0 + 100 * HOUR, logout_ms=T0 + 101 * HOUR)
    _save(store, "acme", "logins", first, [s1, s2])
    _save(store, "acme", "logins", first, [s1, s2])  # a retry overwrites its own batch
    _save(store, "acme", "logins", again, [s1_moved])

    keys = cloud.documents("usage/kind=logins/org_id=acme/")
    assert keys == sorted([batch_key("acme", "logins", u.seq) for u in (first, again)])
    assert all(k.endswith(".parquet") for k in keys)
    assert [b.rows for b in cloud.batches("acme", "logins")] == [2, 1]

    assert store.load("acme", "logins", T0, T0 + 24 * HOUR) == [s2]  # s1 moved out
    assert store.load("acme", "logins", T0 + 99 * HOUR, T0 + 200 * HOUR) == [s1_moved]
    assert list(store.stored_versions("acme", "logins", {"s1"}, T0 + 1)) == [s1]
    assert list(store.stored_versions("acme", "logins", {"s1"}, T0 + 200 * HOUR)) == [
        s1,
        s1_moved,
    ]
    assert list(store.stored_versions("acme", "logins", set(), T0 + 1)) == []


def test_stored_versions_of_tuple_identities(cloud):
    store = S3UsageStore(wiring.settings())
    d1 = Device("d1", "phone", T0, OPEN_END)
    d2 = Device("d1", "phone", T0 + HOUR, T0 + 2 * HOUR)
    _save(store, "acme", "devices", _upload("usage/acme/devices/a.csv", T0), [d1, d2])
    found = store.stored_versions("acme", "devices", {("d1", T0 + HOUR), ("x", 1)}, T0 + 1)
    assert list(found) == [d2]


def test_batch_names_are_path_safe_distinct_and_bounded():
    seqs = [
        Upload("usage/acme/logins/a.csv", "v1", T0).seq,
        Upload("usage/acme/logins/a.csv", "v2", T0).seq,
        Upload("usage/acme/logins/a%2F.csv", "v1", T0).seq,
        Upload("usage/acme/logins/" + "é" * 250 + ".csv", "v1", T0).seq,
        Upload("usage/acme/logins/" + "é" * 250 + ".csv", "v2", T0).seq,
    ]
    names = [batch_name(s) for s in seqs]
    assert len(set(names)) == len(names)
    assert all("/" not in n and "#" not in n and len(n.encode()) <= 400 for n in names)
    assert all(n.startswith(f"{T0:015d}") for n in names)  # they sort by event time


# --- Athena reads the very same files --------------------------------------------------------

GLUE_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "DECIMAL(38,4)": "decimal(38,4)"}


def _glue_tables() -> dict[str, dict]:
    resources = load_template()["Resources"]
    return {
        r["Properties"]["TableInput"]["Name"]: r["Properties"]["TableInput"]
        for r in resources.values()
        if r["Type"] == "AWS::Glue::Table"
    }


@pytest.mark.parametrize("kind", sorted(USAGE_KINDS))
def test_glue_table_columns_equal_the_parquet_schema(kind, tmp_path):
    (path,) = write_files(kind, [[SAMPLES[kind]]], str(tmp_path))
    written = columnar.describe_parquet(path)
    assert written == list(columnar.file_columns(kind))
    table = _glue_tables()[f"usage_{kind}"]
    storage = table["StorageDescriptor"]
    columns = [(c["Name"], c["Type"]) for c in storage["Columns"]]
    assert columns == [(n, GLUE_TYPES[t]) for n, t in written]
    assert [(k["Name"], k["Type"]) for k in table["PartitionKeys"]] == [("org_id", "string")]
    assert storage["SerdeInfo"]["SerializationLibrary"].endswith("ParquetHiveSerDe")
    location = storage["Location"]
    assert location["Fn::Sub"].endswith(f"/usage/kind={kind}/")
    parameters = table["Parameters"]
    assert parameters["projection.enabled"] == "true"
    assert parameters["projection.org_id.type"] == "injected"
    assert parameters["storage.location.template"]["Fn::Sub"].endswith(
        f"/usage/kind={kind}/org_id=${{!org_id}}/"
    )


def _named_queries() -> dict[str, str]:
    resources = load_template()["Resources"]
    return {
        r["Properties"]["Name"]: r["Properties"]["QueryString"]
        for r in resources.values()
        if r["Type"] == "AWS::Athena::NamedQuery"
    }


def _run_in_duckdb(query: str, tables: dict[str, list], month: tuple[int, int], into: Path):
    """Run a named query's SQL in DuckDB over files written by the store: Athena's
    month-bound expression becomes the epoch ms it stands for, each table a view over
    its kind's files with org_id taken from the Hive path."""
    for n, bound in enumerate(month):
        query = query.replace(
            "CAST(to_unixtime(from_iso8601_timestamp(?)) * 1000 AS bigint)", str(bound), 1
        )
        assert n < 2
    con = columnar.connect()
    for kind, batches in tables.items():
        paths = []
        for org, seq, rows in batches:
            folder = into / f"kind={kind}" / f"org_id={org}"
            folder.mkdir(parents=True, exist_ok=True)
            spool = Spool()
            for row in rows:
                spool.add(row)
            path = str(folder / f"{batch_name(seq)}.parquet")
            columnar.csv_to_parquet(kind, spool.finish(), seq, path)
            spool.close()
            paths.append(path)
        con.execute(
            f"CREATE TEMP VIEW usage_{kind} AS SELECT * FROM read_parquet("
            f"{paths!r}, hive_partitioning = true)"
        )
    return con.execute(query).fetchall()


def test_named_query_billable_users_counts_latest_sessions_by_highest_tier(tmp_path):
    (query,) = [q for name, q in _named_queries().items() if name.startswith("billable-users")]
    day = 24 * HOUR
    sessions = [
        Session("s1", "u1", "", "web", T0, T0 + HOUR),
        Session("s2", "u2", "", "api", T0, T0 + HOUR),  # not billable
        Session("s3", "u3", "", "web", T0 - 40 * day, T0 - 40 * day),  # before the month
        Session("s4", "u4", "", "desktop", T0, T0 + HOUR),
    ]
    s4_moved = sessions[3]._replace(login_ms=T0 - 40 * day, logout_ms=T0 - 40 * day)
    licenses = [
        Assignment("u1", "", "CX1", T0 - day, OPEN_END),
        Assignment("u1", "", "CX3", T0 + day, T0 + 2 * day),  # upgraded for a day: CX3
        Assignment("u1", "", "DIGITAL", T0, OPEN_END),  # but CX3 users bill no add-on
        Assignment("u4", "", "CX2", T0, OPEN_END),
        Assignment("u4", "", "WEM", T0, OPEN_END),
    ]
    got = _run_in_duckdb(
        query,
        {
            "logins": [
                ("acme", f"{1:015d}#a#v", sessions),
                ("globex", f"{1:015d}#g#v", sessions[:1]),
                ("acme", f"{2:015d}#b#v", [s4_moved]),  # a later upload moves s4 out
            ],
            "licenses": [("acme", f"{1:015d}#l#v", licenses)],
        },
        (T0, T0 + 31 * day),
        tmp_path,
    )
    assert got == [("acme", "CX3", 1), ("globex", "default_tier", 1)]


def test_named_query_call_minutes_sums_latest_calls(tmp_path):
    (query,) = [q for name, q in _named_queries().items() if name.startswith("call-minutes")]
    call = SAMPLES["calls"]  # 66 s at 0.0110
    again = call._replace(adjusted_duration_s=120, cost=Decimal("0.0200"))
    other = call._replace(call_id="c2", country="GB")
    got = _run_in_duckdb(
        query,
        {
            "calls": [
                ("acme", f"{1:015d}#a#v", [call, other]),
                ("acme", f"{2:015d}#b#v", [again]),  # the latest upload of c1 wins
            ]
        },
        (T0, T0 + HOUR),
        tmp_path,
    )
    assert [(o, s, d, n, float(m), c) for o, s, d, n, m, c in got] == [
        ("acme", "outbound", "International", 1, 1.1, Decimal("0.0110")),
        ("acme", "outbound", "US", 1, 2.0, Decimal("0.0200")),
    ]
