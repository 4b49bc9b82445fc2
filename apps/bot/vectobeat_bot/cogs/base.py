"""What every cog shares: its bot, the guild's settings and the DJ checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vectobeat_bot.bot import guild_of, member_facts
from vectobeat_bot.discord_compat import commands, discord
from vectobeat_bot.i18n import _
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.errors import InvalidInput
from vectobeat_core.ids import ChannelId
from vectobeat_core.permissions import (
    member_track_limit,
    require_add_tracks,
    require_configure,
    require_control,
)

if TYPE_CHECKING:
    from vectobeat_bot.bot import BotDeps, VectoBeatBot

__all__ = ["CogBase"]


class CogBase(commands.Cog):
    """A cog holding its bot; helpers read settings and apply the core's permission rules."""

    def __init__(self, bot: VectoBeatBot) -> None:
        self.bot = bot

    @property
    def deps(self) -> BotDeps:
        return self.bot.deps

    async def settings_of(self, interaction: discord.Interaction) -> GuildSettings:
        return await self.deps.settings.get(guild_of(interaction))

    async def check_control(self, interaction: discord.Interaction, action: str) -> GuildSettings:
        held = await self.settings_of(interaction)
        require_control(member_facts(interaction), held.settings, action)
        return held

    async def check_add(self, interaction: discord.Interaction) -> GuildSettings:
        held = await self.settings_of(interaction)
        require_add_tracks(member_facts(interaction), held.settings)
        return held

    async def add_limit(self, interaction: discord.Interaction) -> int | None:
        """`check_add`, then the member's per-member track limit (``None``: none applies)."""
        held = await self.check_add(interaction)
        return member_track_limit(member_facts(interaction), held.settings)

    def check_configure(self, interaction: discord.Interaction, what: str) -> None:
        require_configure(member_facts(interaction), what)

    def user_voice_channel(self, interaction: discord.Interaction) -> ChannelId:
        """The voice channel the user is in, or a clear error."""
        user = interaction.user
        voice = user.voice if isinstance(user, discord.Member) else None
        if voice is None or voice.channel is None:
            raise InvalidInput(_("Join a voice channel first, then run the command again."))
        return ChannelId(voice.channel.id)
