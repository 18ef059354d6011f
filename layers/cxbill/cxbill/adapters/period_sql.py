"""A period's usage measured where it is stored (SPEC 11, issue 8 item 4): DuckDB SQL over the
batch files, after "latest upload wins" (columnar.latest_sql), so that a close holds per-user
or per-group state, never a Python row per session or call.

- `SqlSessions` answers the license models' questions (domain/sessions.py BillableSessions)
  from a temporary table of the billable sessions: distinct users, users per day, each user's
  union of time (gaps and islands), and the exact 30-minute sustained peak: the level c(t) is a
  running sum of +1/-1 at the islands' ends, and the sustained peak is the largest, over the
  breakpoints x with x + 30 min inside the range, of the minimum level over [x, x + 30 min) (a
  best window can always slide left to start at a breakpoint). Integers all the way: exact to
  the millisecond. The session reports' questions too (concurrent_usage: per day the highest
  level and how long it was held; user_hours: per day and user the covered milliseconds, with
  the user's email from a one-row-per-user `emails` table, streamed in order by fetchmany).
- `tally` groups a kind's rows by its TallySpec (domain/usage_kinds/tally.py) with a count and
  sums.

Each is pinned to the Python reference (SessionRows, TallySpec.of_rows) by
tests/integration/test_close_sql.py on random data.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import duckdb

from ..domain.coverage import SUSTAIN_MS
from ..domain.instants import DAY_MS
from ..domain.sessions import BillableSessions
from ..domain.usage_kinds import BILLABLE_CLIENTS, USAGE_KINDS
from ..domain.usage_kinds.tally import Equals, NonZero, Tally, Value
from . import columnar

FETCH_ROWS = 10_000  # rows fetched from DuckDB at a time when the answer is a stream
MASK_DAYS = 63  # a range of at most this many days keeps each user's days in one UBIGINT
_SQL_TYPES = {
    kind.name: dict(zip(kind.fields, kind.columns, strict=True)) for kind in USAGE_KINDS.values()
}


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"a tally compares with an int or a str, not {value!r}")
    return str(value) if isinstance(value, int) else columnar._sql_string(value)


def _key_sql(kind: str, key: Value | Equals | NonZero) -> str:
    if isinstance(key, Value):
        return key.field
    if isinstance(key, Equals):
        return f"({key.field} = {_literal(key.value)})"
    # a "decimal" is kept as its digits (VARCHAR): as a double it is 0 exactly when it is 0
    zero_test = "CAST({} AS DOUBLE)" if _SQL_TYPES[kind][key.field] == "decimal" else "{}"
    return f"({zero_test.format(key.field)} <> 0)"


def tally(
    kind: str, files: Sequence[columnar.BatchFile], start_ms: int, end_ms: int
) -> list[Tally]:
    """TallySpec.of_rows of the latest version of each row over `files`, in SQL."""
    spec = USAGE_KINDS[kind].tally
    assert spec is not None, f"{kind} declares no tally"
    keys = [_key_sql(kind, k) for k in spec.keys]
    with columnar.connect() as con:
        latest = columnar.latest_sql(kind, files, spec.fields)
        if latest is None:
            return []
        sums = "".join(f", sum({f})" for f in spec.sums)
        rows = con.execute(
            f"SELECT {', '.join(keys)}, count(*){sums} FROM ({latest})"
            f" WHERE {spec.within} >= {int(start_ms)} AND {spec.within} < {int(end_ms)}"
            f" GROUP BY ALL"
        ).fetchall()
    n = len(keys)
    return [Tally(tuple(r[:n]), r[n], tuple(r[n + 1 :])) for r in rows]


class SqlSessions(BillableSessions):
    """The billable sessions overlapping [start_ms, end_ms) of the latest logins over `files`,
    in a temporary table of a DuckDB connection of their own (close() drops them)."""

    def __init__(
        self,
        files: Sequence[columnar.BatchFile],
        start_ms: int,
        end_ms: int,
        emails: bool = False,
    ):
        self.start_ms, self.end_ms = ps, pe = int(start_ms), int(end_ms)
        self.con: duckdb.DuckDBPyConnection = columnar.connect()
        self._islands = self._masks = self._stepped = False
        self._emails = emails
        who = ("session_id", "email") if emails else ()
        columns = ("user_id", "client", "login_ms", "logout_ms", *who)
        latest = columnar.latest_sql("logins", files, columns)
        source = latest or (
            "SELECT "
            + ", ".join(
                f"NULL::{'BIGINT' if c.endswith('_ms') else 'VARCHAR'} AS {c}" for c in columns
            )
            + " WHERE false"
        )
        clients = ", ".join(columnar._sql_string(c) for c in sorted(BILLABLE_CLIENTS))
        # R-named-1: billable, overlapping P (a zero-length session when its instant is in P)
        self.con.execute(
            "CREATE TEMP TABLE billable AS SELECT user_id, login_ms::BIGINT AS login_ms,"
            f" logout_ms::BIGINT AS logout_ms{''.join(', ' + c for c in who)}"
            f" FROM ({source}) WHERE client IN ({clients}) AND CASE WHEN login_ms = logout_ms"
            f" THEN login_ms >= {ps} AND login_ms < {pe}"
            f" ELSE login_ms < {pe} AND logout_ms > {ps} END"
        )
        if emails:
            # Each user's email as the reports show it (domain/sessions.py Emails): one row per
            # user, then the sessions keep only what the questions read.
            self.con.execute(
                "CREATE TEMP TABLE emails AS SELECT user_id,"
                " coalesce(nullif(email, ''), user_id) AS email FROM billable"
                " QUALIFY row_number() OVER (PARTITION BY user_id"
                " ORDER BY login_ms DESC, session_id DESC, email DESC) = 1"
            )
            self.con.execute("ALTER TABLE billable DROP COLUMN session_id")
            self.con.execute("ALTER TABLE billable DROP COLUMN email")

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> SqlSessions:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _days(self) -> int:
        return len(range(self.start_ms, self.end_ms, DAY_MS))

    def _whole_days(self) -> int:
        if self.start_ms % DAY_MS or self.end_ms % DAY_MS or self.end_ms < self.start_ms:
            raise ValueError("range must run from one 00:00 UTC to another")
        return self._days()

    def _per_day(self, rows: list[tuple[int, int]], days: int) -> list[int]:
        out = [0] * days
        for day, value in rows:
            out[day] = int(value or 0)
        return out

    def _user_days(self) -> None:
        """Per user, the days their sessions touch as a bit mask (day i is bit i): one row per
        user, from which both users and users per day are read. A session touches the days of
        its first and last millisecond in the range (its instant when zero-length)."""
        if self._masks:
            return
        ps, pe, day = self.start_ms, self.end_ms, DAY_MS
        first = f"(greatest(login_ms, {ps}) - {ps}) // {day}"
        last = f"(least(greatest(logout_ms - 1, login_ms), {pe - 1}) - {ps}) // {day}"
        self.con.execute(
            "CREATE TEMP TABLE user_days AS SELECT user_id,"
            f" bit_or((1::UBIGINT << ({last} + 1)::INTEGER) - (1::UBIGINT << ({first})::INTEGER))"
            " AS days FROM billable GROUP BY user_id"
        )
        self._masks = True

    def users(self) -> set[str]:
        if self._days() > MASK_DAYS:
            rows = self.con.execute("SELECT DISTINCT user_id FROM billable").fetchall()
        else:
            self._user_days()
            rows = self.con.execute("SELECT user_id FROM user_days").fetchall()
        return {u for (u,) in rows}

    def daily_users(self) -> list[int]:
        ps, pe, day, days = self.start_ms, self.end_ms, DAY_MS, self._days()
        if days <= MASK_DAYS:
            self._user_days()
            rows = self.con.execute(
                f"SELECT d, count(*) FROM user_days, range({days}) t(d)"
                " WHERE (days >> d::INTEGER) & 1 = 1 GROUP BY d"
            ).fetchall()
            return self._per_day(rows, days)
        rows = self.con.execute(
            "SELECT d, count(DISTINCT user_id) FROM (SELECT user_id,"
            f" unnest(range((greatest(login_ms, {ps}) - {ps}) // {day},"
            f" (least(greatest(logout_ms - 1, login_ms), {pe - 1}) - {ps}) // {day} + 1)) AS d"
            " FROM billable) GROUP BY d"
        ).fetchall()
        return self._per_day(rows, days)

    def _union(self) -> None:
        """Per user, the union of their sessions clipped to the range (touching ones merge):
        a session starts an island when it starts after every earlier one (by start) ended."""
        if self._islands:
            return
        ps, pe = self.start_ms, self.end_ms
        self.con.execute(
            f"""
            CREATE TEMP TABLE islands AS
            WITH c AS (
              SELECT user_id, greatest(login_ms, {ps}) AS s, least(logout_ms, {pe}) AS e
              FROM billable WHERE greatest(login_ms, {ps}) < least(logout_ms, {pe})
            ), g AS (
              SELECT *, max(e) OVER (PARTITION BY user_id ORDER BY s, e
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS reach
              FROM c
            ), i AS (
              SELECT *, sum(CASE WHEN reach IS NULL OR s > reach THEN 1 ELSE 0 END)
                          OVER (PARTITION BY user_id ORDER BY s, e ROWS UNBOUNDED PRECEDING)
                        AS island
              FROM g
            )
            SELECT user_id, min(s) AS s, max(e) AS e FROM i GROUP BY user_id, island
            """
        )
        self._islands = True

    def covered_ms(self) -> dict[str, int]:
        self._union()
        rows = self.con.execute("SELECT user_id, sum(e - s) FROM islands GROUP BY user_id")
        return {u: int(ms) for u, ms in rows.fetchall()}

    def daily_covered_ms(self) -> list[int]:
        days = self._whole_days()
        self._union()
        ps, day = self.start_ms, DAY_MS
        rows = self.con.execute(
            f"SELECT d, sum(least(e, {ps} + (d + 1) * {day}) - greatest(s, {ps} + d * {day}))"
            f" FROM (SELECT s, e, unnest(range((s - {ps}) // {day}, (e - 1 - {ps}) // {day} + 1))"
            " AS d FROM islands) GROUP BY d"
        ).fetchall()
        return self._per_day(rows, days)

    def _steps(self, leveled: Sequence[int]) -> None:
        """The step function c(t) as the table `steps`: per breakpoint x (an island's ends, the
        range's start, every 30 minutes from it: midnights too, when it starts at one), b its
        30-minute bucket from the range's start and h<n> the level c(x) of the users whose level
        is >= leveled[n] (a `levels` table), then h_all, the level of every user. The running
        sums include every event at x (a RANGE frame's peers), so events at one instant give
        rows that repeat the same (x, levels): harmless to minima and maxima."""
        ps, pe, w = self.start_ms, self.end_ms, SUSTAIN_MS
        hs = "".join(
            f"sum(CASE WHEN level >= {int(t)} THEN d ELSE 0 END) OVER run AS h{n}, "
            for n, t in enumerate(leveled)
        )
        if leveled:
            spans = "SELECT i.s, i.e, l.level FROM islands i LEFT JOIN levels l USING (user_id)"
        else:
            spans = "SELECT s, e, NULL::BIGINT AS level FROM islands"
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE steps AS
            WITH il AS MATERIALIZED ({spans}), ev AS (
              SELECT s AS x, level, 1 AS d FROM il
              UNION ALL SELECT e, level, -1 FROM il WHERE e < {pe}
              UNION ALL SELECT unnest(range({ps}, {pe}, {w})), NULL, 0
            )
            SELECT x, (x - {ps}) // {w} AS b, {hs}sum(d) OVER run AS h_all FROM ev
            WINDOW run AS (ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            """
        )
        series = [*(f"h{n}" for n in range(len(leveled))), "h_all"]
        stats = ", ".join(f"min({h}) AS lo_{h}, max({h}) AS hi_{h}" for h in series)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE buckets AS SELECT b, {stats} FROM steps GROUP BY b"
        )

    def _peaks(self, h: str, by_day: bool) -> dict[int, int]:
        """Per part p of the range (its days, or the whole: 0), the sustained peak of the series
        `h` of `steps`: the largest, over the breakpoints x with x + 30 min inside the part, of
        the minimum of h over [x, x + 30 min).

        A window minimum by time (a RANGE frame) is slow over millions of breakpoints, so it is
        taken over few: every 30-minute bucket starts with a breakpoint, so a bucket's minimum is
        a level held 30 minutes, and the best bucket's, lb, is at most the peak. A window
        reaching the peak has every level >= lb, so it starts in a bucket whose maximum is
        >= lb (hot) and ends by the next bucket's end: only the rows of hot buckets and of
        those after them are read, in runs of consecutive levels >= lb (a level < lb ends a
        run), each window ending by its run's end."""
        ps, w, day = self.start_ms, SUSTAIN_MS, DAY_MS
        # a bucket's part is its start's: with whole days, buckets never cross midnight
        if by_day:
            p, pend = f"(b * {w}) // {day}", f"{ps} + ((b * {w}) // {day} + 1) * {day}"
        else:
            p, pend = "0", str(self.end_ms)
        rows = self.con.execute(
            f"""
            WITH bk AS (SELECT {p} AS p, b, lo_{h} AS lo, hi_{h} AS hi, {pend} AS pend
                        FROM buckets),
            lb AS (SELECT p, max(lo) AS lb FROM bk WHERE {ps} + (b + 1) * {w} <= pend GROUP BY p),
            hot AS (SELECT DISTINCT k.p, k.b + o AS b FROM bk k JOIN lb USING (p),
                    (VALUES (0), (1)) t(o) WHERE k.hi >= lb.lb),
            s AS (SELECT x, b, {h} AS h, {p} AS p, {pend} AS pend FROM steps
                  SEMI JOIN (SELECT DISTINCT b FROM hot) USING (b)),
            marked AS (
              SELECT s.p, s.x, s.pend, s.h, lb.lb,
                     sum(CASE WHEN s.h < lb.lb THEN 1 ELSE 0 END)
                       OVER (PARTITION BY s.p ORDER BY s.x ROWS UNBOUNDED PRECEDING) AS r
              FROM s JOIN hot USING (p, b) JOIN lb USING (p)
            ), ends AS (
              SELECT p, r - 1 AS r, min(x) AS run_end FROM marked WHERE h < lb GROUP BY p, r
            ), kept AS (
              SELECT m.p, m.x, m.h, m.r, coalesce(e.run_end, m.pend) AS run_end
              FROM marked m LEFT JOIN ends e USING (p, r) WHERE m.h >= m.lb
            )
            SELECT p, max(m) FROM (
              SELECT p, x, run_end, min(h) OVER (PARTITION BY p, r ORDER BY x
                RANGE BETWEEN CURRENT ROW AND {w - 1} FOLLOWING) AS m
              FROM kept)
            WHERE x + {w} <= run_end GROUP BY p
            """
        ).fetchall()
        return {int(p): int(peak) for p, peak in rows}

    def sustained_peaks(self, levels: Mapping[str, int], thresholds: Sequence[int]) -> list[int]:
        if not thresholds:
            return []
        self._union()
        self.con.execute("CREATE OR REPLACE TEMP TABLE levels (user_id VARCHAR, level BIGINT)")
        self.con.execute(
            "INSERT INTO levels SELECT unnest($1), unnest($2)",
            [list(levels), [int(v) for v in levels.values()]],
        )
        self._steps(thresholds)
        self._stepped = True
        return [self._peaks(f"h{n}", by_day=False).get(0, 0) for n in range(len(thresholds))]

    def daily_sustained_peaks(self) -> list[int]:
        days = self._whole_days()
        if not days:
            return []
        self._union()
        if not self._stepped:  # else the steps of sustained_peaks serve: h_all counts everyone
            self._steps(())
            self._stepped = True
        peaks = self._peaks("h_all", by_day=True)
        return [peaks.get(d, 0) for d in range(days)]

    def daily_peaks(self) -> list[tuple[int, int]]:
        """c(t) as a running sum of the islands' +1/-1 per breakpoint, midnights breakpoints too
        (a segment [x, next breakpoint) never crosses one); per day its highest level and the
        length of its segments at that level."""
        days = self._whole_days()
        if not days:
            return []
        self._union()
        ps, pe, day = self.start_ms, self.end_ms, DAY_MS
        rows = self.con.execute(
            f"""
            WITH ev AS (
              SELECT x, sum(d) AS d FROM (
                SELECT s AS x, 1 AS d FROM islands
                UNION ALL SELECT e, -1 FROM islands
                UNION ALL SELECT unnest(range({ps}, {pe}, {day})), 0
              ) GROUP BY x
            ), lv AS (
              SELECT x, sum(d) OVER (ORDER BY x ROWS UNBOUNDED PRECEDING) AS h,
                     coalesce(lead(x) OVER (ORDER BY x), {pe}) AS nx
              FROM ev
            ), seg AS (
              SELECT (x - {ps}) // {day} AS p, h, least(nx, {pe}) - x AS len FROM lv
              WHERE x < {pe}
            ), top AS (SELECT p, max(h) AS peak FROM seg GROUP BY p)
            SELECT p, peak, CASE WHEN peak > 0 THEN sum(len) ELSE 0 END
            FROM seg JOIN top USING (p) WHERE h = peak GROUP BY p, peak
            """
        ).fetchall()
        out = [(0, 0)] * days
        for p, peak, held in rows:
            out[p] = (int(peak), int(held))
        return out

    def daily_user_covered_ms(self) -> Iterator[tuple[int, str, str, int]]:
        """Each island split at the midnights it crosses, summed per (day, user), in order,
        fetched FETCH_ROWS at a time: read it to its end before asking another question (the
        connection holds one result at a time)."""
        if not self._emails:
            raise ValueError("these sessions were read without emails (emails=True)")
        self._whole_days()
        self._union()
        ps, day = self.start_ms, DAY_MS
        cursor = self.con.execute(
            f"""
            SELECT d, user_id, m.email, sum(least(hi, {ps} + (d + 1) * {day})
                                          - greatest(lo, {ps} + d * {day}))
            FROM (SELECT user_id, s AS lo, e AS hi,
                         unnest(range((s - {ps}) // {day}, (e - 1 - {ps}) // {day} + 1)) AS d
                  FROM islands)
            JOIN emails m USING (user_id)
            GROUP BY d, user_id, m.email ORDER BY d, user_id
            """
        )
        while batch := cursor.fetchmany(FETCH_ROWS):
            for d, user, email, ms in batch:
                yield int(d), user, email, int(ms)
