"""The rules one server-settings field obeys: each `Rule` reads a foreign value into the canonical
one (or raises `SettingProblem`, a message id with parameters the shells translate) and describes
the same limits as JSON Schema, so the panel's OpenAPI document is generated from the rules the
core enforces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import RoleId
from vectobeat_core.jsontypes import JSONObject, snowflake
from vectobeat_core.messages import Phrase, Term
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
    """One field's validation problem (collected into `InvalidSettings`, which adds the field):
    a message id with its parameters, or another error's `Phrase`; ``phrase`` is it as a clause
    (no final period), ``str()`` the English."""

    def __init__(self, message: str | Phrase, /, **params: object) -> None:
        phrase = message if isinstance(message, Phrase) else Phrase(message, params)
        self.phrase = Phrase(phrase.template, phrase.params, clause=True)
        super().__init__(str(self.phrase))


@attrs.frozen
class Rule:
    """A field's check and its JSON Schema."""

    check: Callable[[object], object]
    schema: JSONObject


def whole(low: int, high: int) -> Rule:
    """A whole number from ``low`` to ``high``."""

    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SettingProblem(
                "must be a whole number from {low} to {high}, got {value}",
                low=low,
                high=high,
                value=repr(value),
            )
        return value

    return Rule(check, {"type": "integer", "minimum": low, "maximum": high})


def _flag(value: object) -> bool:
    if not isinstance(value, bool):
        raise SettingProblem("must be true or false, got {value}", value=repr(value))
    return value


flag = Rule(_flag, {"type": "boolean"})


def choice(levels: tuple[str, ...]) -> Rule:
    """One of ``levels``."""

    def check(value: object) -> str:
        if not isinstance(value, str) or value not in levels:
            raise SettingProblem(
                "must be one of {choices}, got {value}",
                choices=", ".join(levels),
                value=repr(value),
            )
        return value

    return Rule(check, {"enum": list(levels)})


def _region(value: object) -> Region:
    try:
        return Region.parse(value)
    except InvalidInput as exc:
        raise SettingProblem(exc.phrase()) from None


region = Rule(_region, {"enum": [r.value for r in Region]})


def role_ids(most: int) -> Rule:
    """A list of distinct role ids, at most ``most``."""

    def check(value: object) -> tuple[RoleId, ...]:
        if not isinstance(value, list | tuple):
            raise SettingProblem(
                "must be a list of role ids, got {kind}", kind=type(value).__name__
            )
        if len(value) > most:
            raise SettingProblem(
                "allows at most {most} roles, got {count}", most=most, count=len(value)
            )
        roles: list[RoleId] = []
        for item in value:
            try:
                role = RoleId(snowflake(item, Term("each role")))
            except InvalidInput as exc:
                raise SettingProblem(exc.phrase()) from None
            if role in roles:
                raise SettingProblem("lists role {role} twice", role=role)
            roles.append(role)
        return tuple(roles)

    return Rule(check, {"type": "array", "items": SNOWFLAKE_SCHEMA, "maxItems": most})


def http_url(longest: int) -> Rule:
    """An http(s) URL with a host and no credentials, at most ``longest`` characters, or null."""

    def check(value: object) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise SettingProblem(
                "must be an http(s) URL or null, got {kind}", kind=type(value).__name__
            )
        if len(value) > longest:
            raise SettingProblem("must be at most {longest} characters long", longest=longest)
        if not value.isprintable() or any(ch.isspace() for ch in value):
            raise SettingProblem("must not contain spaces or control characters")
        try:
            parts = urlsplit(value)
            _ = parts.port
        except ValueError:
            raise SettingProblem("is not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SettingProblem("must be an http:// or https:// URL with a host")
        if parts.username is not None or parts.password is not None:
            raise SettingProblem(
                "must not carry a user name or password; use the endpoint's own token"
            )
        return value

    return Rule(check, {"type": ["string", "null"], "format": "uri", "maxLength": longest})


def names(known: tuple[str, ...]) -> Rule:
    """A list of distinct names from ``known``."""

    def check(value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise SettingProblem(
                "must be a list of event names, got {kind}", kind=type(value).__name__
            )
        found: list[str] = []
        for item in value:
            if not isinstance(item, str) or item not in known:
                raise SettingProblem(
                    "has unknown event {event}; choose from {choices}",
                    event=repr(item),
                    choices=", ".join(known),
                )
            if item in found:
                raise SettingProblem("lists event {event} twice", event=repr(item))
            found.append(item)
        return tuple(found)

    return Rule(check, {"type": "array", "items": {"enum": list(known)}})


def _colour(value: object) -> str:
    if not isinstance(value, str) or not _COLOUR.fullmatch(value):
        raise SettingProblem("must be a colour written #RRGGBB, got {value}", value=repr(value))
    return value.upper()


colour = Rule(_colour, {"type": "string", "pattern": f"^{_COLOUR.pattern}$"})
