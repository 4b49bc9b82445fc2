"""``NowPlayingBoard``: keeps each guild's latest /nowplaying message up to date.

The player service reports every change of a guild (`changed`); the board's `run` task edits the
guild's message (through the channel, so Discord's 15-minute interaction tokens do not matter)
at most once per `window` seconds. A message that can no longer be edited is forgotten.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
import anyio.abc

from vectobeat_adapters.i18n import DEFAULT_LANGUAGE, use_language
from vectobeat_bot.discord_compat import discord
from vectobeat_bot.formatting import now_playing_text
from vectobeat_bot.i18n import _
from vectobeat_bot.player_service import PlayerService
from vectobeat_core.ids import ChannelId, GuildId
from vectobeat_core.ports import Lavalink

__all__ = ["NowPlayingBoard", "render_now_playing"]

_log = logging.getLogger("vectobeat.bot.nowplaying")


def render_now_playing(players: PlayerService, cluster: Lavalink, guild_id: GuildId) -> str:
    """The text of a guild's now-playing message."""
    session = players.peek(guild_id)
    if session is None:
        return _("Nothing is playing right now.")
    return now_playing_text(session.queue, cluster.player(guild_id), session.effects)


class NowPlayingBoard:
    """The /nowplaying message of each guild, re-rendered after changes."""

    def __init__(self, window: float = 0.5) -> None:
        self.window = window
        self._messages: dict[GuildId, tuple[ChannelId, int, str]] = {}
        self._pending: set[GuildId] = set()
        self._wake = anyio.Event()

    def follow(
        self,
        guild_id: GuildId,
        channel_id: ChannelId,
        message_id: int,
        language: str = DEFAULT_LANGUAGE,
    ) -> None:
        """From now on, ``message_id`` is the guild's now-playing message, kept in ``language``
        (that of the member who asked for it)."""
        self._messages[guild_id] = (channel_id, message_id, language)

    def changed(self, guild_id: GuildId) -> None:
        if guild_id in self._messages:
            self._pending.add(guild_id)
            self._wake.set()

    async def run(
        self,
        client: discord.Client,
        render: Callable[[GuildId], str],
        *,
        task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Edit messages until cancelled."""
        task_status.started()
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            await anyio.sleep(self.window)
            due, self._pending = self._pending, set()
            for guild_id in due:
                where = self._messages.get(guild_id)
                if where is None:
                    continue
                channel_id, message_id, language = where
                message = client.get_partial_messageable(channel_id).get_partial_message(message_id)
                with use_language(language):
                    content = render(guild_id)
                try:
                    await message.edit(content=content)
                except discord.HTTPException as exc:
                    _log.info("nowplaying_forgotten guild=%s status=%s", guild_id, exc.status)
                    self._messages.pop(guild_id, None)
