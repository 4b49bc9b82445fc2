"""Now-playing announcements: each track that starts after another ended is announced in the
guild's music channel (where it last asked for music, `RegionNotices.channel_of`) in its
``announcement_style``: ``rich`` an embed (`track_embed`) with the now-playing buttons,
``minimal`` one line, ``off`` nothing.

`started` only queues (it runs on the Lavalink event path); `run` posts, and a failed post is
logged, never retried and never holds up playback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_adapters.i18n import use_language
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.embeds import track_embed
from vectobeat_bot.formatting import track_line
from vectobeat_bot.i18n import _, channel_language
from vectobeat_bot.region_notices import RegionNotices
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.errors import VectoBeatError
from vectobeat_core.filters import Effects
from vectobeat_core.ids import GuildId
from vectobeat_core.queue import QueueEntry

__all__ = ["Announcements"]

_log = logging.getLogger("vectobeat.bot.announcements")


class Announcements:
    """Queues started tracks and posts them in each guild's style."""

    def __init__(
        self,
        notices: RegionNotices,
        settings: SettingsSync,
        effects: Callable[[GuildId], Effects] = lambda _: Effects(),
    ) -> None:
        self._notices = notices
        self._settings = settings
        self._effects = effects
        self._outbox: list[tuple[GuildId, QueueEntry]] = []
        self._wake = anyio.Event()
        self.sent = 0

    def started(self, guild_id: GuildId, entry: QueueEntry) -> None:
        """``entry`` started playing in the guild: announce it (soon, from `run`)."""
        self._outbox.append((guild_id, entry))
        self._wake.set()

    async def run(
        self,
        client: discord.Client,
        controls: Callable[[], discord.ui.View | None],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Post queued announcements until cancelled; ``controls()`` makes the buttons under a
        rich one (``None``: without buttons)."""
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            outbox, self._outbox = self._outbox, []
            for guild_id, entry in outbox:
                try:
                    await self._post(client, controls, guild_id, entry)
                except (discord.HTTPException, VectoBeatError) as exc:
                    _log.warning("announcement_failed guild=%s error=%s", guild_id, exc)

    async def _post(
        self,
        client: discord.Client,
        controls: Callable[[], discord.ui.View | None],
        guild_id: GuildId,
        entry: QueueEntry,
    ) -> None:
        channel_id = self._notices.channel_of(guild_id)
        if channel_id is None:
            return
        settings = (await self._settings.get(guild_id)).settings
        style = settings.announcement_style
        channel = client.get_channel(channel_id)
        if style == "off" or not isinstance(channel, discord.abc.Messageable):
            return
        with use_language(channel_language(channel)):
            if style == "minimal":
                await channel.send(_("Now playing {track}").format(track=track_line(entry.track)))
            else:
                view = controls()
                embed = track_embed(entry.track, settings, self._effects(guild_id))
                if view is None:
                    await channel.send(embed=embed)
                else:
                    await channel.send(embed=embed, view=view)
        self.sent += 1
