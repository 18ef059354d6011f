"""UTC instants as integer epoch milliseconds, the unit every usage interval is kept in."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

DAY_MS = 86_400_000
_EPOCH_DAY = date(1970, 1, 1).toordinal()

# ISO 8601 with an explicit offset (section 4.1); the fraction is optional and any length.
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))"
)


class InvalidTimestamp(ValueError):
    pass


def parse_instant(text: str) -> int:
    """An ISO 8601 timestamp with offset as UTC epoch ms; digits past the ms are truncated."""
    m = _TIMESTAMP.fullmatch(text)
    if not m:
        raise InvalidTimestamp(f"not an ISO 8601 timestamp with an offset: {text!r}")
    year, month, day, hour, minute, second = (int(g) for g in m.group(1, 2, 3, 4, 5, 6))
    if hour > 23 or minute > 59 or second > 59:
        raise InvalidTimestamp(f"no such time: {text!r}")
    try:
        days = date(year, month, day).toordinal() - _EPOCH_DAY
    except ValueError as e:
        raise InvalidTimestamp(f"no such date: {text!r}") from e
    millis = int((m.group(7) or "0")[:3].ljust(3, "0"))
    offset_min = 0
    if m.group(9):
        oh, om = int(m.group(10)), int(m.group(11))
        if oh > 23 or om > 59:
            raise InvalidTimestamp(f"no such offset: {text!r}")
        offset_min = (oh * 60 + om) * (1 if m.group(9) == "+" else -1)
    seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60
    return seconds * 1000 + millis


def date_ms(d: date) -> int:
    """00:00 UTC of a date."""
    return (d.toordinal() - _EPOCH_DAY) * DAY_MS


def ms_date(ms: int) -> date:
    """The UTC date an instant falls on."""
    return date.fromordinal(ms // DAY_MS + _EPOCH_DAY)


def to_datetime(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def from_datetime(dt: datetime) -> int:
    return (
        date_ms(dt.date())
        + (dt.hour * 3600 + dt.minute * 60 + dt.second) * 1000
        + (dt.microsecond // 1000)
    )


def format_instant(ms: int) -> str:
    """ISO 8601 with Z, as the invoice JSON writes instants (a fraction only when there is one)."""
    dt = to_datetime(ms)
    if ms % 1000:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
