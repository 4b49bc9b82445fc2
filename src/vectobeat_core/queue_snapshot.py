"""The queue snapshot: `PlayerState` and `QueueSnapshot`, and their compact versioned JSON form.

A snapshot is everything needed to rebuild a guild's queue and player elsewhere (another shard,
after a restart); `QueueSnapshot.from_json` rejects foreign, malformed or other-version input with
`InvalidSnapshot`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

import attrs

from vectobeat_core.errors import InvalidSnapshot
from vectobeat_core.ids import ChannelId, EntryId, GuildId, NodeName
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


@attrs.frozen(slots=True)
class PlayerState:
    """The player facts a snapshot keeps; ``position_ms`` was read at ``position_read_at``."""

    position_ms: int = 0
    position_read_at: float = 0.0
    paused: bool = False
    volume: int = 100
    loop: LoopMode = LoopMode.OFF
    filters: Mapping[str, JSONValue] = attrs.field(factory=dict)
    effects: Mapping[str, JSONValue] = attrs.field(factory=dict)
    """The filter effects members chose (`vectobeat_core.filters.Effects`), part of ``filters``."""
    voice_channel_id: ChannelId | None = None
    node: NodeName | None = None
    region: str = "auto"

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

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "pos": self.position_ms,
            "at": self.position_read_at,
            "vol": self.volume,
            "loop": self.loop.value,
            "reg": self.region,
        }
        if self.paused:
            out["pause"] = True
        if self.filters:
            out["f"] = dict(self.filters)
        if self.effects:
            out["fx"] = dict(self.effects)
        if self.voice_channel_id is not None:
            out["vc"] = str(self.voice_channel_id)
        if self.node is not None:
            out["node"] = self.node
        return out

    @classmethod
    def from_json(cls, obj: object) -> PlayerState:
        if not isinstance(obj, Mapping):
            raise InvalidSnapshot("Snapshot player state must be an object.")
        loop = obj.get("loop", "off")
        if loop not in LoopMode.__members__.values():
            raise InvalidSnapshot(f"Snapshot loop mode {loop!r} is not off, track or queue.")
        channel = _snowflake("Player voice_channel_id", obj.get("vc"))
        return cls(
            position_ms=obj.get("pos", 0),
            position_read_at=snapshot_seconds("Player position_read_at", obj.get("at", 0.0)),
            paused=obj.get("pause", False),
            volume=obj.get("vol", 100),
            loop=LoopMode(loop),
            filters=obj.get("f", {}),
            effects=obj.get("fx", {}),
            voice_channel_id=None if channel is None else ChannelId(channel),
            node=obj.get("node"),
            region=obj.get("reg", "auto"),
        )


def _order_json(value: object) -> tuple[EntryId, ...] | None:
    """The entry ids of the order before the last shuffle (``None``: nothing to undo)."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise InvalidSnapshot("Snapshot unshuffled order must be a list of entry ids.")
    return tuple(EntryId(_int("Snapshot unshuffled entry id", v, 1, MAX_ENTRY_ID)) for v in value)


def _entries_json(where: str, value: object) -> tuple[QueueEntry, ...]:
    if not isinstance(value, list):
        raise InvalidSnapshot(f"Snapshot {where} must be a list.")
    return tuple(QueueEntry.from_json(item) for item in value)


@attrs.frozen(slots=True)
class QueueSnapshot:
    """Everything needed to rebuild a guild's queue and player elsewhere (JSON: `to_json`).

    ``unshuffled`` is the upcoming order before the last shuffle (entry ids), while it can be
    restored; older snapshots lack it and read as ``None``."""

    guild_id: GuildId
    version: int
    current: QueueEntry | None
    entries: tuple[QueueEntry, ...]
    history: tuple[QueueEntry, ...]
    player: PlayerState
    next_entry_id: int
    taken_at: float
    unshuffled: tuple[EntryId, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """A compact JSON-safe dict, marked with its kind and format version ``"v": 1``."""
        out: dict[str, Any] = {
            "k": SNAPSHOT_KIND,
            "v": SNAPSHOT_VERSION,
            "g": str(self.guild_id),
            "n": self.version,
            "c": None if self.current is None else self.current.to_json(),
            "q": [entry.to_json() for entry in self.entries],
            "h": [entry.to_json() for entry in self.history],
            "p": self.player.to_json(),
            "x": self.next_entry_id,
            "at": self.taken_at,
        }
        if self.unshuffled is not None:
            out["u"] = [int(entry_id) for entry_id in self.unshuffled]
        return out

    @classmethod
    def from_json(cls, obj: object) -> QueueSnapshot:
        """Read `to_json`'s form; foreign, malformed or other-version input raises InvalidSnapshot."""
        if not isinstance(obj, Mapping):
            raise InvalidSnapshot(f"A queue snapshot must be an object, got {type(obj).__name__}.")
        if obj.get("k") != SNAPSHOT_KIND:
            raise InvalidSnapshot("This is not a VectoBeat queue snapshot (its kind is missing).")
        if obj.get("v") != SNAPSHOT_VERSION:
            raise InvalidSnapshot(
                f"Queue snapshot version {obj.get('v')!r} is not supported (expected "
                f"{SNAPSHOT_VERSION})."
            )
        missing = [key for key in ("g", "n", "c", "q", "h", "p", "x", "at") if key not in obj]
        if missing:
            raise InvalidSnapshot(f"Queue snapshot is missing field(s): {', '.join(missing)}.")
        guild = _snowflake("Snapshot guild id", obj["g"])
        if guild is None:
            raise InvalidSnapshot("Snapshot guild id must be a Discord id, got None.")
        current = None if obj["c"] is None else QueueEntry.from_json(obj["c"])
        return cls(
            guild_id=GuildId(guild),
            version=_int("Snapshot version counter", obj["n"], 0, MAX_LONG),
            current=current,
            entries=_entries_json("entries", obj["q"]),
            history=_entries_json("history", obj["h"]),
            player=PlayerState.from_json(obj["p"]),
            next_entry_id=_int("Snapshot next entry id", obj["x"], 1, MAX_ENTRY_ID + 1),
            taken_at=snapshot_seconds("Snapshot taken_at", obj["at"]),
            unshuffled=_order_json(obj.get("u")),
        )
