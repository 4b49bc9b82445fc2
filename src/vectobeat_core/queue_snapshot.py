"""The queue snapshot: `PlayerState` and `QueueSnapshot`, and their compact versioned JSON form.

A snapshot is everything needed to rebuild a guild's queue and player elsewhere (another shard,
after a restart); `QueueSnapshot.from_json` rejects foreign, malformed or other-version input with
`InvalidSnapshot`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import partial
from typing import Any, Final, TypeAlias

import attrs

from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.ids import ChannelId, EntryId, GuildId, NodeName
from vectobeat_core.jsonform import dump, dump_method, json_form, json_key, load, load_method
from vectobeat_core.queue_entry import MAX_ENTRY_ID, LoopMode, QueueEntry
from vectobeat_core.tracks import MAX_LONG

__all__ = [
    "REGIONS",
    "SNAPSHOT_KIND",
    "SNAPSHOT_VERSION",
    "JSONValue",
    "PlayerState",
    "QueueSnapshot",
]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"

SNAPSHOT_KIND: Final = "vectobeat.queue"
SNAPSHOT_VERSION: Final = 1
REGIONS: Final = ("auto", "us", "eu", "apac")


def _json_safe(where: str, value: object, depth: int = 0) -> None:
    if depth > 32:
        raise InvalidSnapshot(f"{where} is nested too deeply.")
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidSnapshot(f"{where} holds a non-finite number.")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _json_safe(where, item, depth + 1)
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidSnapshot(f"{where} has a non-string key {key!r}.")
            _json_safe(where, item, depth + 1)
        return
    raise InvalidSnapshot(f"{where} holds a {type(value).__name__}, which is not JSON.")


def _snowflake(where: str, value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_LONG:
        raise InvalidSnapshot(f"{where} must be a Discord id, got {value!r}.")
    return value


def snapshot_seconds(where: str, value: object) -> float:
    """``value`` as seconds (a finite number >= 0); anything else raises `InvalidSnapshot`."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidSnapshot(f"{where} must be a number, got {value!r}.")
    if not math.isfinite(value) or value < 0:
        raise InvalidSnapshot(f"{where} must be a finite number >= 0, got {value!r}.")
    return float(value)


def _int(where: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidSnapshot(f"{where} must be a whole number in {low}-{high}, got {value!r}.")
    return value


@json_form(what="Snapshot player state", error=InvalidSnapshot)
@attrs.frozen(slots=True)
class PlayerState:
    """The player facts a snapshot keeps; ``position_ms`` was read at ``position_read_at``."""

    position_ms: int = attrs.field(default=0, metadata=json_key("pos"))
    position_read_at: float = attrs.field(default=0.0, metadata=json_key("at"))
    paused: bool = attrs.field(default=False, metadata=json_key("pause", omit=True))
    volume: int = attrs.field(default=100, metadata=json_key("vol"))
    loop: LoopMode = LoopMode.OFF
    filters: Mapping[str, JSONValue] = attrs.field(factory=dict, metadata=json_key("f", omit=True))
    effects: Mapping[str, JSONValue] = attrs.field(factory=dict, metadata=json_key("fx", omit=True))
    """The filter effects members chose (`vectobeat_core.filters.Effects`), part of ``filters``."""
    voice_channel_id: ChannelId | None = attrs.field(
        default=None, metadata=json_key("vc", omit=True)
    )
    node: NodeName | None = attrs.field(default=None, metadata=json_key(omit=True))
    region: str = attrs.field(default="auto", metadata=json_key("reg"))

    def __attrs_post_init__(self) -> None:
        _int("Player position_ms", self.position_ms, 0, MAX_LONG)
        snapshot_seconds("Player position_read_at", self.position_read_at)
        if not isinstance(self.paused, bool):
            raise InvalidSnapshot(f"Player paused must be true or false, got {self.paused!r}.")
        _int("Player volume", self.volume, 0, 200)
        if not isinstance(self.loop, LoopMode):
            raise InvalidSnapshot(f"Player loop must be a LoopMode, got {self.loop!r}.")
        if not isinstance(self.filters, Mapping):
            raise InvalidSnapshot("Player filters must be an object.")
        _json_safe("Player filters", self.filters)
        if not isinstance(self.effects, Mapping):
            raise InvalidSnapshot("Player effects must be an object.")
        _json_safe("Player effects", self.effects)
        _snowflake("Player voice_channel_id", self.voice_channel_id)
        if self.node is not None and (not isinstance(self.node, str) or not self.node):
            raise InvalidSnapshot(f"Player node must be a non-empty name, got {self.node!r}.")
        if self.region not in REGIONS:
            raise InvalidSnapshot(
                f"Player region must be one of {', '.join(REGIONS)}, got {self.region!r}."
            )

    def position_at(self, now: float) -> int:
        """The playback position at ``now``, extrapolated unless paused."""
        if self.paused:
            return self.position_ms
        elapsed = max(0.0, now - self.position_read_at)
        return self.position_ms + int(elapsed * 1000)

    to_json = dump_method()
    from_json = load_method()


def _order_json(value: object) -> tuple[EntryId, ...] | None:
    """The entry ids of the order before the last shuffle (``None``: nothing to undo)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidSnapshot("Snapshot unshuffled order must be a list of entry ids.")
    return tuple(EntryId(_int("Snapshot unshuffled entry id", v, 1, MAX_ENTRY_ID)) for v in value)


@json_form(what="Queue snapshot", error=InvalidSnapshot)
@attrs.frozen(slots=True)
class QueueSnapshot:
    """Everything needed to rebuild a guild's queue and player elsewhere (JSON: `to_json`).

    ``unshuffled`` is the upcoming order before the last shuffle (entry ids), while it can be
    restored; older snapshots lack it and read as ``None``."""

    guild_id: GuildId = attrs.field(metadata=json_key("g"))
    version: int = attrs.field(
        metadata=json_key("n", load=partial(_int, "Snapshot version counter", low=0, high=MAX_LONG))
    )
    current: QueueEntry | None = attrs.field(metadata=json_key("c"))
    entries: tuple[QueueEntry, ...] = attrs.field(metadata=json_key("q"))
    history: tuple[QueueEntry, ...] = attrs.field(metadata=json_key("h"))
    player: PlayerState = attrs.field(metadata=json_key("p"))
    next_entry_id: int = attrs.field(
        metadata=json_key(
            "x", load=partial(_int, "Snapshot next entry id", low=1, high=MAX_ENTRY_ID + 1)
        )
    )
    taken_at: float = attrs.field(
        metadata=json_key("at", load=partial(snapshot_seconds, "Snapshot taken_at"))
    )
    unshuffled: tuple[EntryId, ...] | None = attrs.field(
        default=None, metadata=json_key("u", omit=True, load=_order_json)
    )

    def to_json(self) -> dict[str, Any]:
        """A compact JSON-safe dict, marked with its kind and format version ``"v": 1``."""
        return {"k": SNAPSHOT_KIND, "v": SNAPSHOT_VERSION, **dump(self)}

    @classmethod
    def from_json(cls, obj: object) -> QueueSnapshot:
        """Read `to_json`'s form; foreign, malformed or other-version input raises InvalidSnapshot."""
        if isinstance(obj, Mapping):
            if obj.get("k") != SNAPSHOT_KIND:
                raise InvalidSnapshot(
                    "This is not a VectoBeat queue snapshot (its kind is missing)."
                )
            if obj.get("v") != SNAPSHOT_VERSION:
                raise InvalidSnapshot(
                    f"Queue snapshot version {obj.get('v')!r} is not supported (expected "
                    f"{SNAPSHOT_VERSION})."
                )
        return load(cls, obj)
