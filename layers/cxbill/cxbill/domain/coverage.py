"""Time coverage of users: sustained concurrent peaks (R-conc-1..2), logged-in hours (R-hourly-1).

All instants are int epoch milliseconds; all intervals are half-open [start, end).
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal

from .instants import DAY_MS

SUSTAIN_MS = 30 * 60 * 1000  # R-conc-2: peaks shorter than 30 minutes are disregarded
HOUR_MS = 3_600_000

Interval = tuple[int, int]
Coverage = Mapping[str, list[Interval]] | Iterable[list[Interval]]


def _merge(intervals: Iterable[Interval], start_ms: int, end_ms: int) -> list[Interval]:
    """Sorted union of intervals clipped to [start_ms, end_ms); touching intervals merge too."""
    out: list[Interval] = []
    for s, e in sorted((max(s, start_ms), min(e, end_ms)) for s, e in intervals):
        if s >= e:
            continue  # zero-length, inverted or outside the range: covers nothing
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def user_coverage(
    sessions: Iterable[tuple[str, int, int]], start_ms: int, end_ms: int
) -> dict[str, list[Interval]]:
    """Per user, the sorted union of their sessions clipped to [start_ms, end_ms).

    Users whose sessions cover nothing in the range are absent.
    """
    by_user: dict[str, list[Interval]] = defaultdict(list)
    for user, login, logout in sessions:
        by_user[user].append((login, logout))
    merged = {u: _merge(iv, start_ms, end_ms) for u, iv in by_user.items()}
    return {u: iv for u, iv in merged.items() if iv}


def _lists(coverage: Coverage, start_ms: int, end_ms: int) -> list[list[Interval]]:
    """Each user's intervals re-merged and clipped, so a user is never counted twice (R-conc-1)."""
    values = coverage.values() if isinstance(coverage, Mapping) else coverage
    return [_merge(iv, start_ms, end_ms) for iv in values]


def _steps(lists: list[list[Interval]], start_ms: int, end_ms: int, cuts: Iterable[int] = ()):
    """The step function c(t) over [start_ms, end_ms): breakpoints xs (xs[0] == start_ms) and
    levels hs, c(t) == hs[i] on [xs[i], xs[i+1]) (the last segment ends at end_ms). Extra `cuts`
    (day boundaries) become breakpoints so a day is a contiguous slice of segments."""
    delta: dict[int, int] = defaultdict(int)
    delta[start_ms] += 0
    for x in cuts:
        delta[x] += 0
    for iv in lists:
        for s, e in iv:
            delta[s] += 1
            delta[e] -= 1
    xs: list[int] = []
    hs: list[int] = []
    level = 0
    for x in sorted(delta):
        if x >= end_ms:
            break
        level += delta[x]
        xs.append(x)
        hs.append(level)
    return xs, hs


def _peak(xs: list[int], hs: list[int], lo: int, hi: int, end_ms: int, window_ms: int) -> int:
    """Largest level of segments lo..hi-1 whose maximal span with c >= level is >= window_ms.

    Monotonic stack as in largest-rectangle-in-histogram: when a segment is popped, its span runs
    from the end of the segment below it on the stack to the start of the segment popping it.
    """
    best = 0
    stack: list[int] = []
    for i in range(lo, hi + 1):
        h, x = (hs[i], xs[i]) if i < hi else (-1, end_ms)  # sentinel pops everything at the end
        while stack and hs[stack[-1]] >= h:
            j = stack.pop()
            left = xs[stack[-1] + 1] if stack else xs[lo]
            if hs[j] > best and x - left >= window_ms:
                best = hs[j]
        stack.append(i)
    return best


def sustained_peak(
    coverage: Coverage, start_ms: int, end_ms: int, window_ms: int = SUSTAIN_MS
) -> int:
    """R-conc-2: the largest L with c(t) >= L on some interval of length >= window_ms inside
    [start_ms, end_ms); 0 when no level is held that long or the range is shorter than a window."""
    if end_ms - start_ms < window_ms:
        return 0
    xs, hs = _steps(_lists(coverage, start_ms, end_ms), start_ms, end_ms)
    return _peak(xs, hs, 0, len(xs), end_ms, window_ms)


def _days(start_ms: int, end_ms: int) -> list[int]:
    if start_ms % DAY_MS or end_ms % DAY_MS or end_ms < start_ms:
        raise ValueError("range must run from one 00:00 UTC to another")
    return list(range(start_ms, end_ms, DAY_MS))


def daily_sustained_peaks(coverage: Coverage, start_ms: int, end_ms: int) -> list[int]:
    """The sustained peak of each UTC day of the range, windows never crossing midnight."""
    days = _days(start_ms, end_ms)
    if not days:
        return []
    # One sweep for the whole range, with midnights as breakpoints; each day is then a slice.
    xs, hs = _steps(_lists(coverage, start_ms, end_ms), start_ms, end_ms, days)
    out = []
    for d in days:
        lo, hi = bisect_left(xs, d), bisect_left(xs, d + DAY_MS)
        out.append(_peak(xs, hs, lo, hi, d + DAY_MS, SUSTAIN_MS))
    return out


def covered_ms(coverage: Mapping[str, list[Interval]]) -> dict[str, int]:
    """Total covered milliseconds per user (R-hourly-1, before rounding)."""
    return {u: sum(e - s for s, e in _merge(iv, -(2**63), 2**63)) for u, iv in coverage.items()}


def daily_covered_ms(coverage: Coverage, start_ms: int, end_ms: int) -> list[int]:
    """Total covered milliseconds of all users per UTC day of the range."""
    days = _days(start_ms, end_ms)
    out = [0] * len(days)
    for iv in _lists(coverage, start_ms, end_ms):
        for s, e in iv:
            d = (s - start_ms) // DAY_MS
            while s < e:  # split at each midnight the interval crosses
                cut = min(e, start_ms + (d + 1) * DAY_MS)
                out[d] += cut - s
                s, d = cut, d + 1
    return out


def hours(ms: int) -> Decimal:
    """Milliseconds as hours, rounded half-up to 2 decimals (R-hourly-1)."""
    return (Decimal(ms) / Decimal(HOUR_MS)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
