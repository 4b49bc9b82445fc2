"""Telling a pinned guild that its music left its region, and that it came back.

A failover that finds no healthy node in a guild's pinned region moves the player to another
region (`vectobeat_adapters.lavalink.failover`); the guild is told in the channel where music was
last asked for (`remember`), at most once per ``min_interval_s`` for each kind of change, and
told again when the player is back (the core's `placement_change` decides what to say, in the
server's language). Posting happens in `run`, off the Lavalink event path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_adapters.i18n import use_language
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.i18n import channel_language, phrase_text
from vectobeat_core.ids import ChannelId, GuildId
from vectobeat_core.messages import Phrase
from vectobeat_core.regions import PlacementChange, Region, placement_change, placement_message

__all__ = ["RegionNotices"]

_log = logging.getLogger("vectobeat.bot.region_notices")


class RegionNotices:
    """Remembers each guild's music channel and posts region changes there, rate-limited."""

    def __init__(
        self, *, min_interval_s: float = 300.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        self.min_interval_s = min_interval_s
        self._now = now
        self._channels: dict[GuildId, ChannelId] = {}
        self._last: dict[tuple[GuildId, PlacementChange], float] = {}
        self._outbox: list[tuple[ChannelId, Phrase]] = []
        self._wake = anyio.Event()
        self.sent = 0

    def remember(self, guild_id: GuildId, channel_id: ChannelId | None) -> None:
        """``channel_id`` is where the guild last asked for music."""
        if channel_id is not None:
            self._channels[guild_id] = channel_id

    def channel_of(self, guild_id: GuildId) -> ChannelId | None:
        """The guild's music channel: where it last asked for music (``None`` if unknown)."""
        return self._channels.get(guild_id)

    def moved(
        self, guild_id: GuildId, wanted: Region, before: Region, after: Region
    ) -> Phrase | None:
        """A player moved between regions: the message to post (queued), if any."""
        change = placement_change(wanted, before, after)
        channel = self.channel_of(guild_id)
        if change is None or channel is None:
            return None
        key, now = (guild_id, change), self._now()
        last = self._last.get(key)
        if last is not None and now - last < self.min_interval_s:
            return None
        self._last[key] = now
        message = placement_message(change, wanted, after)
        self._outbox.append((channel, message))
        self._wake.set()
        return message

    async def run(
        self,
        client: discord.Client,
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Post queued notices until cancelled (a failed post is logged, not retried)."""
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            outbox, self._outbox = self._outbox, []
            for channel_id, message in outbox:
                channel = client.get_channel(channel_id)
                if not isinstance(channel, discord.abc.Messageable):
                    continue
                with use_language(channel_language(channel)):
                    text = phrase_text(message)
                try:
                    await channel.send(text)
                    self.sent += 1
                except discord.HTTPException as exc:
                    _log.warning("region_notice_failed channel=%s error=%s", channel_id, exc)
