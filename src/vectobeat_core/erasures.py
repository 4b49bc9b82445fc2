"""The erasure record, and what a bot has applied of it.

Every confirmed erasure gets a place in one ordered record (`Erasure.seq`, kept on its compliance
request): a later erasure has a larger ``seq``, and none becomes visible after one with a larger
``seq``, so a reader that saw ``seq`` n has seen every erasure before it (numbers may be skipped).
A bot keeps an `ErasureLedger` next to its local data: the record read up to ``cursor``, pushed
notices applied ahead of it, and the erasures whose local part failed and is tried again. So a
bot that was down or cut off catches up on every erasure it missed, and applies each one once. A
bot that started with no local data at all (``since``) owes nothing to the erasures before.

One rule keeps an erasure from being undone by a race (a settings answer or queue snapshot
already in flight, or read from the panel before it finished erasing its stores): once a guild's
erasure at ``erased_at`` T is being applied here (`ErasedGuilds.erasing`), data of that guild
written at or before T, or at an unknown time, is never stored or served again
(`ErasedGuilds.keeps`); data written after T (the guild uses the bot anew) is. The panel holds
what bots send it to the record's order instead of a clock: it keeps the guild's latest erasure
for a while (a tombstone) and takes data of the guild only from a bot that says it applied the
record that far (`ErasureLedger.applied`, `sent_after`).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import GuildId
from vectobeat_core.jsonform import dump_method, json_form, json_key, load_method

__all__ = ["ERASURE_PAGE", "ErasedGuilds", "Erasure", "ErasureLedger", "sent_after"]

ERASURE_PAGE = 100
"""The most erasures one answer of the panel's bridge carries; a full page means: ask again."""


@json_form(what="Erasure")
@attrs.frozen
class Erasure:
    """Guild ``guild_id`` was erased at ``erased_at``, at place ``seq`` (from 1) of the record."""

    seq: int
    guild_id: GuildId
    erased_at: float

    def __attrs_post_init__(self) -> None:
        if self.seq < 1:
            raise InvalidInput("An erasure's place in the record starts at 1.")

    to_json = dump_method()
    from_json = load_method()


@json_form(what="Erasure ledger")
@attrs.frozen
class ErasureLedger:
    """What a bot has applied of the record: every erasure up to ``cursor``, those in ``ahead``
    (pushed notices applied before the record was read that far), except the ones in ``retry``,
    whose local erasure failed and is tried again until it succeeds. ``since``: the bot held no
    data before then (it started with none), so erasures placed earlier are not due."""

    cursor: int = 0
    ahead: frozenset[int] = attrs.field(default=frozenset(), metadata=json_key(omit=True))
    retry: tuple[Erasure, ...] = attrs.field(default=(), metadata=json_key(omit=True))
    since: float | None = attrs.field(default=None, metadata=json_key(omit=True))

    def due(self, erasure: Erasure) -> bool:
        """Whether ``erasure`` was never applied here (a failed one is `retry`'s, not due)."""
        if self.since is not None and erasure.erased_at < self.since:
            return False
        return erasure.seq > self.cursor and erasure.seq not in self.ahead

    def read(self, erasure: Erasure, *, failed: bool = False) -> ErasureLedger:
        """The record was read up to ``erasure`` (applied now unless it was not `due`; ``failed``:
        its local erasure failed)."""
        return attrs.evolve(
            self,
            cursor=max(self.cursor, erasure.seq),
            ahead=frozenset(seq for seq in self.ahead if seq > erasure.seq),
            retry=self._retry(erasure, failed),
        )

    def noticed(self, erasure: Erasure, *, failed: bool = False) -> ErasureLedger:
        """A pushed notice of ``erasure`` was applied before the record was read up to it."""
        if not self.due(erasure):
            return self
        return attrs.evolve(
            self, ahead=self.ahead | {erasure.seq}, retry=self._retry(erasure, failed)
        )

    def retried(self, erasure: Erasure, *, failed: bool) -> ErasureLedger:
        """``erasure`` from `retry` was tried again; it stays there while it fails."""
        if failed:
            return self
        return attrs.evolve(self, retry=tuple(e for e in self.retry if e.seq != erasure.seq))

    def applied(self, guild_id: GuildId) -> int:
        """The place in the record up to which every erasure of ``guild_id`` was applied here:
        the cursor, or just before the first of the guild's erasures still to be retried. (A
        notice applied `ahead` counts once the record is read up to it.)"""
        failed = [e.seq for e in self.retry if e.guild_id == guild_id]
        return min([self.cursor, *(seq - 1 for seq in failed)])

    @property
    def withheld(self) -> frozenset[GuildId]:
        """Guilds whose local erasure is still to be retried: nothing of theirs may be served."""
        return frozenset(erasure.guild_id for erasure in self.retry)

    def _retry(self, erasure: Erasure, failed: bool) -> tuple[Erasure, ...]:
        if not failed or any(e.seq == erasure.seq for e in self.retry):
            return self.retry
        return (*self.retry, erasure)

    to_json = dump_method()
    from_json = load_method()


@attrs.frozen
class ErasedGuilds:
    """The latest erasure applied here of each guild, and the rule that keeps data written before
    it out (see the module docstring). A bot holds it in memory only: nothing it writes names an
    erased guild."""

    latest: Mapping[GuildId, float] = attrs.field(factory=dict)
    """When each guild's latest erasure applied here ran (panel time)."""

    def erasing(self, erasure: Erasure) -> ErasedGuilds:
        """``erasure`` is being applied here: from now on `keeps` holds its guild to it."""
        held = self.latest.get(erasure.guild_id)
        if held is not None and held >= erasure.erased_at:
            return self
        return ErasedGuilds({**self.latest, erasure.guild_id: erasure.erased_at})

    def erased_at(self, guild_id: GuildId) -> float | None:
        """When the latest erasure of ``guild_id`` applied here ran (panel time), if any."""
        return self.latest.get(guild_id)

    def keeps(self, guild_id: GuildId, written_at: float | None) -> bool:
        """Whether data of ``guild_id`` written at ``written_at`` (``None``: unknown) may be
        stored or served here: not when the guild was erased here at or after that time."""
        erased_at = self.erased_at(guild_id)
        return erased_at is None or (written_at is not None and written_at > erased_at)


def sent_after(tombstone: Erasure | None, applied: int | None) -> bool:
    """Whether data of ``tombstone``'s guild, sent by a bot that applied the record up to
    ``applied`` (`ErasureLedger.applied`; ``None``: a bot that does not follow the record), may be
    stored or served where the guild's latest erasure is ``tombstone`` (``None``: none known):
    only when the bot had applied that erasure when it sent the data."""
    return tombstone is None or (applied is not None and applied >= tombstone.seq)
