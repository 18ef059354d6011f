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


def read_object(data: bytes, max_bytes: int, what: str) -> dict:
    """A small JSON document's bytes as one object, or Rejected: at most `max_bytes`, UTF-8 (a
    leading byte-order mark ignored), not empty, strict JSON (R-contract-9/10), one object."""
    if len(data) > max_bytes:
        raise Rejected.one(f"{what} is larger than its limit: at most {max_bytes} bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Rejected.one(f"not UTF-8: byte {e.start}") from e
    if not text.strip():
        raise Rejected.one("empty file")
    try:
        # A number with a fraction is kept as a float: no field accepts one, so the checker
        # reports it at its own path (a money value must be a JSON string, R-contract-5).
        obj = loads(text)
    except json.JSONDecodeError as e:
        raise Rejected.one(f"invalid JSON: {e.msg}", line=e.lineno, column=str(e.colno)) from e
    except ValueError as e:  # an integer of more than 4300 digits
        raise Rejected.one(f"invalid JSON: {str(e)[:200]}") from e
    if not isinstance(obj, dict):
        raise Rejected.one(f"{what} is one JSON object")
    return obj


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
