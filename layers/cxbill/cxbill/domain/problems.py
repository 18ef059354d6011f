"""What is wrong with an input, as the rejection report lists it (R-ingest-1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

MAX_REPORTED = 1000


@dataclass(frozen=True)
class Problem:
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None

    def as_json(self) -> dict:
        return {k: v for k, v in asdict(self).items()}


class Rejected(Exception):
    """A whole input refused, with every problem found (up to MAX_REPORTED, then a count)."""

    def __init__(self, problems: list[Problem], more: int = 0):
        super().__init__(problems[0].message if problems else "rejected")
        self.problems = problems
        self.more = more

    @classmethod
    def one(cls, message: str, **where) -> Rejected:
        return cls([Problem(message, **where)])


class RowError(ValueError):
    """One cell of a row is invalid: becomes a Problem on the row's line, naming the column."""

    def __init__(self, column: str, value: str, message: str):
        super().__init__(message)
        self.column, self.value = column, value
