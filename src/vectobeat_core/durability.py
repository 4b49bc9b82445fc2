"""When a queue change counts as saved, and how the local journal is replayed into the store.

A change is acknowledged to the user only once it is durable: written to the queue store
(``STORED``) or to the bot's local journal while the store is unreachable (``JOURNALED``).
Otherwise the reply says it is not saved yet (``NOT_SAVED``).

Replay rules (pure, so they are property-tested): the journal keeps the latest snapshot per guild
with a growing sequence number; replay goes in sequence order, one entry per guild (the highest
sequence wins), and never overwrites a snapshot the store holds that was taken later.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import TypeVar

import attrs

from vectobeat_core.ids import GuildId

__all__ = ["Durability", "JournalStamp", "replay_order", "store_is_newer"]

S = TypeVar("S", bound="JournalStamp")


class Durability(enum.Enum):
    """How far a queue change got when its acknowledgement was due."""

    STORED = "stored"
    JOURNALED = "journaled"
    NOT_SAVED = "not_saved"

    @property
    def saved(self) -> bool:
        return self is not Durability.NOT_SAVED


@attrs.frozen
class JournalStamp:
    """A journal entry's identity: its guild, its sequence number and its snapshot's time."""

    guild_id: GuildId
    seq: int
    taken_at: float


def replay_order(entries: Iterable[S]) -> list[S]:
    """The entries to replay: the highest sequence per guild, in ascending sequence order."""
    latest: dict[GuildId, S] = {}
    for entry in entries:
        held = latest.get(entry.guild_id)
        if held is None or entry.seq > held.seq:
            latest[entry.guild_id] = entry
    return sorted(latest.values(), key=lambda entry: entry.seq)


def store_is_newer(entry: JournalStamp, stored_taken_at: float | None) -> bool:
    """True when the store holds a snapshot of the guild taken after the journaled one (skip it)."""
    return stored_taken_at is not None and stored_taken_at > entry.taken_at
