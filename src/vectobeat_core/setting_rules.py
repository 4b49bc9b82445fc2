"""The rules one server-settings field obeys: each `Rule` reads a foreign value into the canonical
one (or raises `SettingProblem`) and describes the same limits as JSON Schema, so the panel's
OpenAPI document is generated from the rules the core enforces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import RoleId
from vectobeat_core.jsontypes import JSONObject, snowflake
from vectobeat_core.regions import Region

__all__ = [
    "SNOWFLAKE_SCHEMA",
    "Rule",
    "SettingProblem",
    "choice",
    "colour",
    "flag",
    "http_url",
    "names",
    "region",
    "role_ids",
    "whole",
]

SNOWFLAKE_SCHEMA: JSONObject = {"type": "string", "pattern": "^[1-9][0-9]{0,18}$"}
"""A Discord id as JSON carries it (decimal text)."""
_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


class SettingProblem(Exception):
    """One field's validation message (collected into `InvalidSettings`, which adds the field)."""

    def __init__(self, message: str) -> None:
        super().__init__(message.rstrip("."))


@attrs.frozen
class Rule:
    """A field's check and its JSON Schema."""

    check: Callable[[object], object]
    schema: JSONObject


def whole(low: int, high: int) -> Rule:
    """A whole number from ``low`` to ``high``."""

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SettingProblem(f"must be a whole number from {low} to {high}, got {value!r}.")
        return value

    return Rule(check, {"type": "integer", "minimum": low, "maximum": high})


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise SettingProblem(f"must be true or false, got {value!r}.")
    return value


flag = Rule(_flag, {"type": "boolean"})


def choice(levels: tuple[str, ...]) -> Rule:
    """One of ``levels``."""

    def check(value: object) -> str:
        if not isinstance(value, str) or value not in levels:
            raise SettingProblem(f"must be one of {', '.join(levels)}, got {value!r}.")
        return value

    return Rule(check, {"enum": list(levels)})


def _region(value: object) -> Region:
    try:
        return Region.parse(value)
    except InvalidInput as exc:
        raise SettingProblem(exc.message) from None


region = Rule(_region, {"enum": [r.value for r in Region]})


def role_ids(most: int) -> Rule:
    """A list of distinct role ids, at most ``most``."""

    def check(value: object) -> tuple[RoleId, ...]:
        if not isinstance(value, list | tuple):
            raise SettingProblem(f"must be a list of role ids, got {type(value).__name__}.")
        if len(value) > most:
            raise SettingProblem(f"allows at most {most} roles, got {len(value)}.")
        roles: list[RoleId] = []
        for item in value:
            try:
                role = RoleId(snowflake(item, "each role"))
            except InvalidInput as exc:
                raise SettingProblem(exc.message) from None
            if role in roles:
                raise SettingProblem(f"lists role {role} twice.")
            roles.append(role)
        return tuple(roles)

    return Rule(check, {"type": "array", "items": SNOWFLAKE_SCHEMA, "maxItems": most})


def http_url(longest: int) -> Rule:
    """An http(s) URL with a host and no credentials, at most ``longest`` characters, or null."""

    def check(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise SettingProblem(f"must be an http(s) URL or null, got {type(value).__name__}.")
        if len(value) > longest:
            raise SettingProblem(f"must be at most {longest} characters long.")
        if not value.isprintable() or any(ch.isspace() for ch in value):
            raise SettingProblem("must not contain spaces or control characters.")
        try:
            parts = urlsplit(value)
            _ = parts.port
        except ValueError:
            raise SettingProblem("is not a valid URL.") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingProblem("must be an http:// or https:// URL with a host.")
        if parts.username is not None or parts.password is not None:
            raise SettingProblem(
                "must not carry a user name or password; use the endpoint's own token."
            )
        return value

    return Rule(check, {"type": ["string", "null"], "format": "uri", "maxLength": longest})


def names(known: tuple[str, ...]) -> Rule:
    """A list of distinct names from ``known``."""

    def check(value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise SettingProblem(f"must be a list of event names, got {type(value).__name__}.")
        found: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in known:
                raise SettingProblem(f"has unknown event {item!r}; choose from {', '.join(known)}.")
            if item in found:
                raise SettingProblem(f"lists event {item!r} twice.")
            found.append(item)
        return tuple(found)

    return Rule(check, {"type": "array", "items": {"enum": list(known)}})


def _colour(value: object) -> str:
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise SettingProblem(f"must be a colour written #RRGGBB, got {value!r}.")
    return value.upper()


colour = Rule(_colour, {"type": "string", "pattern": f"^{_COLOUR.pattern}$"})
