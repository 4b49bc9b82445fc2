"""Playback controls from the web: the actions the panel and the public API may ask the bot for,
their arguments, the API scope each needs, and the results the bot sends back.

A `ControlRequest` travels panel → bot; the bot applies it with the same DJ rules as the slash
commands (`vectobeat_core.permissions.require_control`, naming `ControlAction.phrase`) and answers
with a `ControlResult`. ``applied`` means durable (the slash commands' acknowledgement rule);
``not_saved`` is done but not durable yet; ``unknown`` is a change that may or may not have
happened (shown as such, never as done); ``refused`` changed nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.jsonform import dump_method, json_form, json_key, load_method
from vectobeat_core.jsontypes import JSONObject
from vectobeat_core.playback import MAX_VOLUME, parse_position

__all__ = [
    "CONTROL_SCOPES",
    "MAX_POSITION",
    "ControlAction",
    "ControlCommand",
    "ControlOutcome",
    "ControlRequest",
    "ControlResult",
]

MAX_POSITION = 100_000
_REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_ACTOR = re.compile(r"(user|token):[A-Za-z0-9_-]{1,64}")
_LANGUAGE = re.compile(r"[a-z]{2,3}")


class ControlAction(StrEnum):
    """What a web control does."""

    PAUSE = "pause"
    RESUME = "resume"
    SKIP = "skip"
    PREVIOUS = "previous"
    SEEK = "seek"
    VOLUME = "volume"
    REMOVE = "remove"
    MOVE = "move"
    CLEAR = "clear"
    SHUFFLE = "shuffle"

    @property
    def phrase(self) -> str:
        """What the DJ refusal says the member may not do (the slash commands' words)."""
        return _PHRASES[self]

    @property
    def scope(self) -> str:
        """The API token scope this action needs."""
        return "queue:write" if self in _QUEUE_EDITS else "playback:control"


def _language(raw: object) -> str:
    """A request's language tag; anything odd (an older panel sends none) is English."""
    return raw if isinstance(raw, str) and _LANGUAGE.fullmatch(raw) else "en"


_PHRASES = {
    ControlAction.PAUSE: "pause playback",
    ControlAction.RESUME: "resume playback",
    ControlAction.SKIP: "skip tracks",
    ControlAction.PREVIOUS: "go back to the previous track",
    ControlAction.SEEK: "seek",
    ControlAction.VOLUME: "change the volume",
    ControlAction.REMOVE: "remove tracks",
    ControlAction.MOVE: "move tracks",
    ControlAction.CLEAR: "clear the queue",
    ControlAction.SHUFFLE: "shuffle the queue",
}
_QUEUE_EDITS = frozenset(
    {ControlAction.REMOVE, ControlAction.MOVE, ControlAction.CLEAR, ControlAction.SHUFFLE}
)
CONTROL_SCOPES: tuple[str, ...] = ("playback:control", "queue:write")
"""The API token scopes of the web controls (each action needs one, `ControlAction.scope`)."""

_FIELDS: dict[ControlAction, tuple[str, ...]] = {
    ControlAction.SEEK: ("position_ms",),
    ControlAction.VOLUME: ("volume",),
    ControlAction.REMOVE: ("position",),
    ControlAction.MOVE: ("position", "target"),
}


def _action(value: object) -> ControlAction:
    try:
        return ControlAction(value if isinstance(value, str) else "")
    except ValueError:
        names = ", ".join(a.value for a in ControlAction)
        raise InvalidInput(f"'action' must be one of {names}.") from None


def _whole(name: str, value: object, low: int, high: int) -> int:
    """A whole number from JSON or a form field (ASCII digits), from ``low`` to ``high``."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip()) if len(value.strip()) <= 12 else None
    if number is None or not low <= number <= high:
        raise InvalidInput(f"'{name}' must be a whole number from {low} to {high}.")
    return number


def _seek_ms(fields: Mapping[str, object]) -> int:
    """``position_ms`` (a number), or ``position`` as people write it (``1:23``)."""
    if "position_ms" in fields:
        return _whole("position_ms", fields["position_ms"], 0, 2**53)
    text = fields.get("position")
    if not isinstance(text, str):
        raise InvalidInput("Seeking needs 'position_ms' (milliseconds) or 'position' like 1:23.")
    return parse_position(text)


@attrs.frozen
class ControlCommand:
    """One action with its arguments (positions are 1-based, as in ``/queue``)."""

    action: ControlAction
    position_ms: int | None = None
    volume: int | None = None
    position: int | None = None
    target: int | None = None

    @classmethod
    def parse(cls, fields: Mapping[str, object]) -> ControlCommand:
        """Read a command from JSON or form fields; anything missing, unknown or out of range
        raises `InvalidInput` naming it."""
        action = _action(fields.get("action"))
        allowed = {"action", *_FIELDS.get(action, ())}
        if action is ControlAction.SEEK:
            allowed.add("position")
        unknown = sorted(str(k) for k in fields if k not in allowed)
        if unknown:
            raise InvalidInput(f"'{action}' takes no field(s) {', '.join(unknown)[:200]}.")
        if action is ControlAction.SEEK:
            return cls(action, position_ms=_seek_ms(fields))
        if action is ControlAction.VOLUME:
            return cls(action, volume=_whole("volume", fields.get("volume"), 0, MAX_VOLUME))
        if action in (ControlAction.REMOVE, ControlAction.MOVE):
            position = _whole("position", fields.get("position"), 1, MAX_POSITION)
            if action is ControlAction.REMOVE:
                return cls(action, position=position)
            target = _whole("target", fields.get("target"), 1, MAX_POSITION)
            return cls(action, position=position, target=target)
        return cls(action)

    # Written by hand, not by jsonform: which fields it has depends on the action (read by parse).
    def to_json(self) -> JSONObject:
        out: JSONObject = {"action": self.action.value}
        for name in _FIELDS.get(self.action, ()):
            out[name] = getattr(self, name)
        return out


def _command(raw: object) -> ControlCommand:
    if not isinstance(raw, Mapping):
        raise InvalidInput("A control request needs its 'command' object.")
    return ControlCommand.parse(raw)


@json_form(what="Control request")
@attrs.frozen
class ControlRequest:
    """A command for one guild, by ``actor`` (``user:<id>`` or ``token:<id>``). ``member`` is
    the Discord member whose roles the bot checks; ``None`` for an API token, whose scope is its
    authority (a guild manager created it)."""

    id: str
    guild_id: GuildId
    command: ControlCommand = attrs.field(
        metadata=json_key(dump=ControlCommand.to_json, load=_command)
    )
    actor: str
    member: UserId | None = attrs.field(metadata=json_key(default=None))
    language: str = attrs.field(default="en", metadata=json_key(load=_language))
    """The language of the person who asked (a tag like ``de``): the bot answers in it."""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not _REQUEST_ID.fullmatch(self.id):
            raise InvalidInput("A control request id is 8 to 64 letters, digits, '-' or '_'.")
        if not isinstance(self.actor, str) or not _ACTOR.fullmatch(self.actor):
            raise InvalidInput("A control request's actor is 'user:<id>' or 'token:<id>'.")

    to_json = dump_method()
    from_json = load_method()


class ControlOutcome(StrEnum):
    APPLIED = "applied"
    """Done and durable."""
    NOT_SAVED = "not_saved"
    """Done, but not durable yet (the queue store and the journal are both down)."""
    REFUSED = "refused"
    """Nothing changed (bad input, not allowed, nothing playing)."""
    UNKNOWN = "unknown"
    """It may or may not have happened (a dependency failed mid-way, or no confirmation)."""


_STATUS = {
    ControlOutcome.APPLIED: 200,
    ControlOutcome.NOT_SAVED: 503,
    ControlOutcome.UNKNOWN: 503,
}


@attrs.frozen
class ControlResult:
    """The bot's answer to a `ControlRequest`; ``status`` is the HTTP status to show it with."""

    outcome: ControlOutcome
    message: str
    status: int = attrs.field()

    @status.default
    def _status(self) -> int:
        return _STATUS.get(self.outcome, 400)

    to_json = dump_method()

    # Read by hand, not by jsonform: the bot picks the status of a refusal only (else it follows
    # the outcome), and the message must be 1 to 2000 characters.
    @classmethod
    def from_json(cls, raw: object) -> ControlResult:
        if not isinstance(raw, Mapping):
            raise InvalidInput("A control result must be an object.")
        try:
            outcome = ControlOutcome(str(raw.get("outcome")))
        except ValueError:
            names = ", ".join(o.value for o in ControlOutcome)
            raise InvalidInput(f"'outcome' must be one of {names}.") from None
        message = raw.get("message")
        if not isinstance(message, str) or not 1 <= len(message) <= 2000:
            raise InvalidInput("'message' must be 1 to 2000 characters.")
        if outcome is ControlOutcome.REFUSED:
            return cls(outcome, message, _whole("status", raw.get("status"), 400, 599))
        return cls(outcome, message)
