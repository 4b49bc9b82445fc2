"""The JSON value type: what ``json.loads`` returns and ``json.dumps`` accepts.

``json_value`` checks that a foreign object really is JSON-safe (string keys, finite numbers, a
bounded depth) and returns a deep copy built only of ``dict``, ``list`` and scalars. ``parse_json``
reads JSON text whose nesting is checked before it is parsed (no ``RecursionError``), and the
readers of numbers sent as text (``snowflake``, ``whole_number``) accept ASCII digits only: the
Unicode digits ``str.isdigit`` also accepts (``²``, ``٣``) are refused, not crashed on.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import TypeAlias

from vectobeat_core.errors import InvalidInput
from vectobeat_core.messages import Term, message_id

__all__ = [
    "JSON",
    "MAX_JSON_DEPTH",
    "MAX_SNOWFLAKE",
    "JSONObject",
    "json_depth",
    "json_object",
    "json_value",
    "parse_json",
    "snowflake",
    "whole_number",
]

JSON: TypeAlias = str | int | float | bool | list["JSON"] | dict[str, "JSON"] | None
JSONObject: TypeAlias = dict[str, JSON]

MAX_JSON_DEPTH = 16
"""How deeply JSON values may nest in events and payloads the core accepts."""


def json_value(value: object, what: str = "value", *, _depth: int = 0) -> JSON:
    """Return a deep, plain copy of ``value`` or raise `InvalidInput` naming ``what``."""
    if _depth > MAX_JSON_DEPTH:
        raise InvalidInput(f"{what} nests deeper than {MAX_JSON_DEPTH} levels.")
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"{what} must be a finite number, got {value!r}.")
        return value
    if isinstance(value, list | tuple):
        return [json_value(item, f"{what}[{i}]", _depth=_depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        return json_object(value, what, _depth=_depth)
    raise InvalidInput(
        f"{what} must be JSON (text, number, boolean, list or object), got {type(value).__name__}."
    )


def json_object(value: object, what: str = "value", *, _depth: int = 0) -> JSONObject:
    """Like `json_value` but the value must be an object (a mapping with string keys)."""
    if not isinstance(value, Mapping):
        raise InvalidInput(f"{what} must be a JSON object, got {type(value).__name__}.")
    out: JSONObject = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidInput(f"{what} has a non-text key {key!r}; JSON object keys are text.")
        out[key] = json_value(item, f"{what}.{key}", _depth=_depth + 1)
    return out


MAX_SNOWFLAKE = 2**63 - 1


def snowflake(value: object, what: str = "id") -> int:
    """Read a Discord snowflake: a positive integer or its decimal text (JSON clients send text,
    since snowflakes exceed JavaScript's safe integers)."""
    number: object = value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= MAX_SNOWFLAKE:
        raise InvalidInput(
            message_id("{what} must be a Discord id (a positive whole number), got {value}."),
            what=Term(what),
            value=repr(value),
        )
    return number


def _is_ascii_digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def whole_number(text: str, what: str, *, low: int, high: int) -> int:
    """Read ASCII decimal ``text`` as a whole number from ``low`` to ``high``, or `InvalidInput`."""
    if not (_is_ascii_digits(text) and len(text) <= len(str(high)) and low <= int(text) <= high):
        raise InvalidInput(f"{what} must be a whole number from {low} to {high}.")
    return int(text)


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deeply the arrays and objects of JSON ``text`` nest (brackets inside strings ignored);
    linear, and safe on text too deep for ``json.loads``."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: str | bytes, what: str, *, max_depth: int = MAX_JSON_DEPTH) -> JSON:
    """Parse JSON text nesting at most ``max_depth`` levels; `InvalidInput` naming ``what`` for
    text that is not UTF-8 JSON, nests deeper, or holds NaN/Infinity."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} must be UTF-8 JSON.") from None
    if json_depth(text) > max_depth:
        raise InvalidInput(f"{what} nests deeper than {max_depth} levels.")
    try:
        value: JSON = json.loads(text, parse_constant=_no_constant)
    except ValueError:
        raise InvalidInput(f"{what} must be JSON.") from None
    return value
