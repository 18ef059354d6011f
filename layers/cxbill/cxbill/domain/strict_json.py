"""JSON read strictly (R-contract-10): a key repeated within one object, NaN and Infinity, and
nesting deeper than MAX_DEPTH levels are errors, each named by its JSON path where it has one.

Python's json module accepts all of these: a repeated key silently keeps the last value (a
dropped term), and NaN/Infinity are not JSON at all (RFC 8259).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from .problems import MAX_REPORTED, Problem, Rejected

MAX_DEPTH = 32  # the top-level value is level 1


class _RepeatedKeys(dict):
    """An object in which some key was given more than once: it is always rejected, so it never
    leaves this module."""

    repeated: list[str]


class _NotANumber:
    """Where NaN, Infinity or -Infinity stood, kept so that the walk can name its path."""

    def __init__(self, text: str):
        self.text = text


def loads(text: str) -> Any:
    """The JSON value of `text`, or Rejected listing every R-contract-10 problem. Malformed JSON
    raises json.JSONDecodeError (which carries its position) as json.loads does."""
    try:
        value = json.loads(text, object_pairs_hook=_object, parse_constant=_NotANumber)
    except RecursionError as e:  # far deeper than MAX_DEPTH: the parser gave up first
        raise Rejected.one(_too_deep()) from e
    problems = list(_problems(value, "", 1))
    if problems:
        raise Rejected(problems[:MAX_REPORTED], max(len(problems) - MAX_REPORTED, 0))
    return value


def _object(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _RepeatedKeys(obj)
    seen: set[str] = set()
    marked.repeated = []
    for key, _ in pairs:
        if key in seen:
            marked.repeated.append(key)
        seen.add(key)
    return marked


def _problems(value: Any, path: str, depth: int) -> Iterator[Problem]:
    if isinstance(value, _NotANumber):
        yield Problem(
            f"{value.text} is not a JSON number (R-contract-10)",
            column=path or None,
            value=value.text,
        )
        return
    if not isinstance(value, dict | list):
        return
    if depth > MAX_DEPTH:
        yield Problem(_too_deep(), column=path or None)
        return
    if isinstance(value, _RepeatedKeys):
        for name in dict.fromkeys(value.repeated):
            yield Problem(
                f"key {name!r} is given more than once in one object: the earlier value would be "
                "silently dropped (R-contract-10)",
                column=_join(path, name),
            )
    items: Iterable[tuple[str | int, Any]]
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        yield from _problems(item, _join(path, key), depth + 1)


def _join(path: str, key: str | int) -> str:
    """A JSON path as the contract checker writes them: prices.CX1.overage, one_time[0].amount."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _too_deep() -> str:
    return f"JSON nested deeper than {MAX_DEPTH} levels (R-contract-10)"
