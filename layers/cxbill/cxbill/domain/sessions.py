"""The billable sessions of a period, as the license models ask about them (R-named, R-conc,
R-hourly): the questions are per-user reductions (who, which days, the union of their time, the
sustained peak of a set of users), never "every row".

`SessionRows` answers them in Python from rows: it is the reference, what the fakes and the
unit tests use. A store may answer the same questions where the rows are (the columnar store
does it in DuckDB SQL, adapters/columnar.py `SqlSessions`); tests/integration/test_close_sql.py
checks on random sessions that both give the same answers, to the millisecond.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING

from .coverage import (
    Interval,
    covered_ms,
    daily_covered_ms,
    daily_sustained_peaks,
    sustained_peak,
    user_coverage,
)
from .instants import DAY_MS

if TYPE_CHECKING:  # usage imports contract, which imports the license models: types only
    from .usage import Session

__all__ = ["BillableSessions", "Emails", "SessionRows", "billable_in", "overlaps"]


def overlaps(start: int, end: int, p_start: int, p_end: int) -> bool:
    """Half-open overlap; a zero-length interval overlaps when its instant lies inside."""
    if start == end:
        return p_start <= start < p_end
    return start < p_end and end > p_start


def billable_in(sessions: Iterable[Session], p_start: int, p_end: int) -> list[Session]:
    """R-named-1: the billable sessions overlapping [p_start, p_end)."""
    return [s for s in sessions if s.billable and overlaps(*s.span, p_start, p_end)]


class Emails:
    """Each user's email as of their latest session seen (by login, then session id, then
    email), the user id when it is blank."""

    def __init__(self) -> None:
        self._latest: dict[str, tuple[int, str, str]] = {}

    def see(self, s: Session) -> None:
        mark = (s.login_ms, s.session_id, s.email)
        if mark > self._latest.get(s.user_id, (-(2**63), "", "")):
            self._latest[s.user_id] = mark

    def __getitem__(self, user_id: str) -> str:
        return self._latest[user_id][2] or user_id


class BillableSessions(ABC):
    """The billable sessions overlapping [start_ms, end_ms), and what the models ask of them."""

    start_ms: int
    end_ms: int

    @abstractmethod
    def users(self) -> set[str]:
        """R-named-1: the users with at least one of these sessions."""

    @abstractmethod
    def daily_users(self) -> list[int]:
        """Per UTC day of the range, the distinct users with a session touching it (a
        zero-length session counts on the day of its instant)."""

    @abstractmethod
    def covered_ms(self) -> dict[str, int]:
        """R-hourly-1: per user, the milliseconds of the union of their sessions clipped to the
        range (users covering nothing are absent)."""

    @abstractmethod
    def daily_covered_ms(self) -> list[int]:
        """Per UTC day, the covered milliseconds of all users (each user's union)."""

    @abstractmethod
    def sustained_peaks(self, levels: Mapping[str, int], thresholds: Sequence[int]) -> list[int]:
        """R-conc-2: for each threshold t, the sustained peak of the users u with
        levels[u] >= t (every user has a level)."""

    @abstractmethod
    def daily_sustained_peaks(self) -> list[int]:
        """The sustained peak of all users per UTC day, windows never crossing midnight."""

    @abstractmethod
    def daily_peaks(self) -> list[tuple[int, int]]:
        """R-conc-1, per UTC day of a range of whole days: the highest level of c(t) that day
        and the milliseconds of the day it was held (0 when the highest level is 0)."""

    @abstractmethod
    def daily_user_covered_ms(self) -> Iterator[tuple[int, str, str, int]]:
        """Per UTC day of a range of whole days and user covering time that day, in order of
        day then user id: (day index, user id, email, the milliseconds of the union of their
        sessions that day). The email is the one of the user's latest billable session in the
        range (by login, then session id, then email), their user id when it is blank. Read it
        as it comes: there may be many (users x days)."""


class SessionRows(BillableSessions):
    """The reference: the answers computed in Python from the billable rows."""

    def __init__(self, billable: Sequence[Session], start_ms: int, end_ms: int):
        self.billable = billable
        self.start_ms, self.end_ms = start_ms, end_ms

    @classmethod
    def of(cls, sessions: Iterable[Session], start_ms: int, end_ms: int) -> SessionRows:
        """From any sessions: keeps the billable ones overlapping the range."""
        return cls(billable_in(sessions, start_ms, end_ms), start_ms, end_ms)

    @cached_property
    def _coverage(self) -> dict[str, list[Interval]]:
        spans = ((s.user_id, s.login_ms, s.logout_ms) for s in self.billable)
        return user_coverage(spans, self.start_ms, self.end_ms)

    def users(self) -> set[str]:
        return {s.user_id for s in self.billable}

    def daily_users(self) -> list[int]:
        start_ms, end_ms = self.start_ms, self.end_ms
        daily: list[set[str]] = [set() for _ in range(start_ms, end_ms, DAY_MS)]
        for s in self.billable:
            first = max(s.login_ms, start_ms)
            last = min(max(s.logout_ms - 1, s.login_ms), end_ms - 1)
            for i in range((first - start_ms) // DAY_MS, (last - start_ms) // DAY_MS + 1):
                daily[i].add(s.user_id)
        return [len(users) for users in daily]

    def covered_ms(self) -> dict[str, int]:
        return covered_ms(self._coverage)

    def daily_covered_ms(self) -> list[int]:
        return daily_covered_ms(self._coverage, self.start_ms, self.end_ms)

    def sustained_peaks(self, levels: Mapping[str, int], thresholds: Sequence[int]) -> list[int]:
        coverage = self._coverage
        return [
            sustained_peak(
                [c for u, c in coverage.items() if levels[u] >= t], self.start_ms, self.end_ms
            )
            for t in thresholds
        ]

    def daily_sustained_peaks(self) -> list[int]:
        return daily_sustained_peaks(self._coverage, self.start_ms, self.end_ms)

    def daily_peaks(self) -> list[tuple[int, int]]:
        start, end = self.start_ms, self.end_ms
        days = _whole_days(start, end)
        if not days:
            return []
        # One sweep of c(t) over the range with midnights as breakpoints: no segment spans two days.
        delta: dict[int, int] = defaultdict(int)
        for d in days:
            delta[d] += 0
        for spans in self._coverage.values():
            for s, e in spans:
                delta[s] += 1
                delta[e] -= 1
        peak, held_ms = [0] * len(days), [0] * len(days)
        xs = sorted(delta)
        level = 0
        for x, nxt in zip(xs, [*xs[1:], end], strict=True):
            level += delta[x]
            if x >= end:
                break
            i = (x - start) // DAY_MS
            if level > peak[i]:
                peak[i], held_ms[i] = level, 0
            if level == peak[i]:
                held_ms[i] += nxt - x
        return [(p, held if p else 0) for p, held in zip(peak, held_ms, strict=True)]

    def daily_user_covered_ms(self) -> Iterator[tuple[int, str, str, int]]:
        start = self.start_ms
        _whole_days(start, self.end_ms)
        per_day: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for user, spans in self._coverage.items():
            for s, e in spans:
                while s < e:  # split at each midnight the span crosses
                    day = (s - start) // DAY_MS
                    cut = min(e, start + (day + 1) * DAY_MS)
                    per_day[day][user] += cut - s
                    s = cut
        emails = Emails()
        for session in self.billable:
            emails.see(session)
        for day in sorted(per_day):
            users = per_day[day]
            for user in sorted(users):
                yield day, user, emails[user], users[user]


def _whole_days(start_ms: int, end_ms: int) -> range:
    if start_ms % DAY_MS or end_ms % DAY_MS or end_ms < start_ms:
        raise ValueError("range must run from one 00:00 UTC to another")
    return range(start_ms, end_ms, DAY_MS)
