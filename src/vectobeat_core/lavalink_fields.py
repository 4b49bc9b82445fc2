"""How Lavalink JSON values are read, one rule per kind of field (servers deviate from the docs).

Every reader takes what a server sent and returns the value or the caller's default; none raises.
``"123"`` and ``123.0`` read as numbers, ``0``/``1`` and ``"true"`` as flags, names in any case
or spelling (``"FINISHED"``, ``"load_failed"``) as the documented name. Each reader checks the
documented shape first, so a well-formed message costs one ``isinstance`` per field.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TypeVar

__all__ = [
    "MAX_LONG",
    "TEXT_LIMIT",
    "amount",
    "flag",
    "folded",
    "message",
    "named",
    "names",
    "optional_text",
    "real",
    "snowflake",
    "text",
    "whole",
]

MAX_LONG = 2**63 - 1
"""Java's ``Long.MAX_VALUE``: the largest number Lavalink sends (a stream's length)."""

TEXT_LIMIT = 1000
"""Event texts (exception messages, close reasons) are cut to this many characters."""

_DIGITS_LIMIT = 20  # a decimal string longer than any Java long is not a number to us
_T = TypeVar("_T")


def whole(value: object) -> int | None:
    """An integer from an int, a finite float (truncated) or a decimal string; else ``None``."""
    if isinstance(value, int):
        return None if isinstance(value, bool) else value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        digits = value.strip()
        unsigned = digits.removeprefix("-")
        if 0 < len(unsigned) <= _DIGITS_LIMIT and unsigned.isascii() and unsigned.isdigit():
            return int(digits)
    return None


def real(value: object) -> float | None:
    """A finite number from an int, a float or a numeric string; else ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return None if isinstance(value, bool) else float(value)
    if isinstance(value, str) and len(value) <= _DIGITS_LIMIT + 12:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def amount(value: object, default: int) -> int:
    """A count or a time in ms: a `whole` number >= 0 (at most `MAX_LONG`), else ``default``."""
    number = whole(value)
    if number is None or number < 0:
        return default
    return min(number, MAX_LONG)


def snowflake(value: object) -> int | None:
    """A Discord id (``guildId``), sent as a string or a number; ``None`` when it is not one."""
    if isinstance(value, str) and not value.isdigit():
        return None  # no sign, no blanks: an id is digits only
    number = whole(value) if not isinstance(value, float) else None
    return number if number is not None and 0 < number <= MAX_LONG else None


def flag(value: object, default: bool) -> bool:
    """A boolean, also from ``0``/``1`` or ``"true"``/``"false"`` in any case; else ``default``."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("true", "false"):
            return word == "true"
    return default


def text(value: object, default: str) -> str:
    """A string (a number is written out), else ``default``."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return default


def optional_text(value: object) -> str | None:
    """A non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def message(value: object, default: str) -> str:
    """An event's `text`, cut to `TEXT_LIMIT` characters (it ends up in logs and replies)."""
    return text(value, default)[:TEXT_LIMIT]


def folded(name: str) -> str:
    """How names are compared: lower case, without ``_``, ``-`` and blanks."""
    return name.lower().replace("_", "").replace("-", "").replace(" ", "")


def names(known: Iterable[_T]) -> dict[str, _T]:
    """The lookup table `named` takes, from the documented names."""
    table = {folded(str(name)): name for name in known}
    table.update((str(name), name) for name in list(table.values()))
    return table


def named(value: object, table: Mapping[str, _T], default: _T) -> _T:
    """The documented name ``value`` spells (see `folded`), else ``default``."""
    if isinstance(value, str) and len(value) <= 64:
        found = table.get(value)
        if found is None:
            found = table.get(folded(value))
        if found is not None:
            return found
    return default
