"""Discord voice for Lavalink: a `VoiceProtocol` that hands voice data to the cluster.

No audio flows through the bot: Discord's VOICE_STATE_UPDATE (session id) and
VOICE_SERVER_UPDATE (token, endpoint) go to `Lavalink.update_voice`, and the node connects.
`DiscordVoiceLink` is the player service's `VoiceLink` over the bot's guilds.
"""

from __future__ import annotations

import logging
from typing import Any, cast

import anyio

from vectobeat_bot.discord_compat import discord
from vectobeat_core.errors import InvalidInput, NodeUnavailable, NotFound, VectoBeatError
from vectobeat_core.ids import ChannelId, GuildId
from vectobeat_core.ports import Lavalink

__all__ = ["DiscordVoiceLink", "LavalinkVoice"]

_log = logging.getLogger("vectobeat.bot.voice")


class LavalinkVoice(discord.VoiceProtocol):
    """One guild's voice connection, forwarded to Lavalink."""

    def __init__(
        self, client: discord.Client, channel: discord.abc.Connectable, cluster: Lavalink
    ) -> None:
        super().__init__(client, channel)
        self.cluster = cluster
        self.guild_id = GuildId(getattr(channel, "guild").id)  # noqa: B009 - Connectable has no .guild in stubs
        self.session_id: str | None = None
        self.token: str | None = None
        self.endpoint: str | None = None
        self.channel_id: ChannelId | None = ChannelId(getattr(channel, "id"))  # noqa: B009
        self._ready: anyio.Event | None = None
        self._failed = False
        """Set once the node has the voice data; made only while `connect` or `move_to` waits
        for it (an idle ``anyio.Event`` costs about 900 bytes a connected guild)."""

    async def on_voice_state_update(self, data: Any) -> None:
        raw = data.get("channel_id")
        if raw is None:
            self.channel_id = None
            self.cleanup()
            return
        self.channel_id = ChannelId(int(raw))
        self.session_id = str(data.get("session_id") or "")
        await self._push()

    async def on_voice_server_update(self, data: Any) -> None:
        self.token = str(data.get("token") or "")
        self.endpoint = str(data.get("endpoint") or "")
        await self._push()

    async def _push(self) -> None:
        if not (self.session_id and self.token and self.endpoint and self.channel_id):
            return
        try:
            await self.cluster.update_voice(
                self.guild_id,
                session_id=self.session_id,
                token=self.token,
                endpoint=self.endpoint,
                channel_id=self.channel_id,
            )
        except VectoBeatError as exc:
            # the player's record keeps the voice data: a failover hands it to the next node
            _log.warning("voice_update_failed guild=%s error=%s", self.guild_id, exc)
        except Exception:
            # not a node's known failure: a waiting join says so instead of "Discord did not answer"
            _log.exception("voice_update_failed guild=%s", self.guild_id)
            self._failed = True
        if self._ready is not None:
            self._ready.set()

    async def _change_and_wait(
        self, channel: discord.abc.Snowflake | None, seconds: float, *, self_mute: bool = False
    ) -> bool:
        """Ask Discord to put the bot in ``channel``; whether the node had the new voice data
        within ``seconds``."""
        ready = self._ready = anyio.Event()
        self._failed = False
        try:
            await self._guild().change_voice_state(
                channel=channel, self_deaf=True, self_mute=self_mute
            )
            with anyio.move_on_after(seconds):
                await ready.wait()
            if self._failed:
                raise NodeUnavailable(
                    "The music node could not take the voice connection; try again."
                )
            return ready.is_set()
        finally:
            if self._ready is ready:
                self._ready = None

    async def connect(
        self,
        *,
        timeout: float,  # noqa: ASYNC109 - discord.py's signature
        reconnect: bool,
        self_deaf: bool = True,
        self_mute: bool = False,
    ) -> None:
        channel = cast(discord.abc.Snowflake, self.channel)
        try:
            answered = await self._change_and_wait(channel, timeout, self_mute=self_mute)
        except NodeUnavailable:
            self.cleanup()
            raise
        if not answered:
            self.cleanup()
            raise NodeUnavailable("Discord did not answer the voice connection in time.")

    async def move_to(self, channel: discord.abc.Snowflake) -> None:
        self.token = None
        await self._change_and_wait(channel, 10.0)

    async def disconnect(self, *, force: bool) -> None:
        try:
            await self._guild().change_voice_state(channel=None)
        finally:
            self.cleanup()

    def _guild(self) -> discord.Guild:
        guild = self.client.get_guild(self.guild_id)
        if guild is None:
            raise NotFound("The bot is not in guild {guild}.", guild=self.guild_id)
        return guild


class DiscordVoiceLink:
    """The player service's view of voice: join, leave, where the bot is connected."""

    def __init__(self, client: discord.Client, cluster: Lavalink, timeout: float = 10.0) -> None:
        self._client = client
        self._cluster = cluster
        self._timeout = timeout

    def _voice(self, guild_id: GuildId) -> LavalinkVoice | None:
        guild = self._client.get_guild(guild_id)
        voice = None if guild is None else guild.voice_client
        return voice if isinstance(voice, LavalinkVoice) else None

    def connected_channel(self, guild_id: GuildId) -> ChannelId | None:
        voice = self._voice(guild_id)
        return None if voice is None else voice.channel_id

    async def join(self, guild_id: GuildId, channel_id: ChannelId) -> None:
        guild = self._client.get_guild(guild_id)
        if guild is None:
            raise NotFound("The bot is not in guild {guild}.", guild=guild_id)
        channel = guild.get_channel(channel_id)
        if not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            raise InvalidInput("That voice channel no longer exists.")
        voice = self._voice(guild_id)
        if voice is not None:
            if voice.channel_id != channel_id:
                await voice.move_to(channel)
            return
        cluster = self._cluster

        def make(client: discord.Client, where: discord.abc.Connectable) -> LavalinkVoice:
            return LavalinkVoice(client, where, cluster)

        try:
            await channel.connect(cls=make, timeout=self._timeout, self_deaf=True)
        except discord.ClientException:
            return  # already connecting/connected

    async def reconnect(self, guild_id: GuildId, channel_id: ChannelId) -> None:
        """A voice state update for the channel the bot is in (or joins): Discord answers with a
        new voice server, which reaches the node (after Lavalink's ``WebSocketClosedEvent``)."""
        voice = self._voice(guild_id)
        guild = self._client.get_guild(guild_id)
        channel = None if guild is None else guild.get_channel(channel_id)
        if voice is None or not isinstance(channel, discord.VoiceChannel | discord.StageChannel):
            await self.join(guild_id, channel_id)  # the clear errors of a join
            return
        await voice.move_to(channel)

    async def leave(self, guild_id: GuildId) -> None:
        voice = self._voice(guild_id)
        if voice is not None:
            await voice.disconnect(force=True)
