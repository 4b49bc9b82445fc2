"""Voice: /connect, /disconnect, /voiceinfo."""

from __future__ import annotations

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_core.errors import InvalidInput

__all__ = ["VoiceCog"]


class VoiceCog(CogBase):
    """Joining and leaving voice."""

    @app_commands.command(name="connect", description="Join your voice channel")
    async def connect(self, interaction: discord.Interaction) -> None:
        channel = self.user_voice_channel(interaction)
        await self.check_control(interaction, "move the bot")
        await interaction.response.defer(thinking=True)
        await self.deps.players.connect(guild_of(interaction), channel)
        await finish(interaction, f"Connected to <#{channel}>.")

    @app_commands.command(name="disconnect", description="Leave voice and clear the queue")
    async def disconnect(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        await self.check_control(interaction, "disconnect the bot")
        if self.deps.players.voice.connected_channel(guild) is None and (
            self.deps.cluster.player(guild) is None
        ):
            raise InvalidInput("I am not connected to a voice channel.")
        await interaction.response.defer(thinking=True)
        await self.deps.players.disconnect(guild)
        await finish(interaction, "Disconnected and cleared the queue.")

    @app_commands.command(name="voiceinfo", description="Where the bot is connected and how")
    async def voiceinfo(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        held = await self.settings_of(interaction)
        info = self.deps.cluster.player(guild)
        session = self.deps.players.peek(guild)
        channel = session.voice_channel_id if session else None
        decision = held.decision
        lines = [
            f"Voice channel: {f'<#{channel}>' if channel else 'not connected'}",
            f"Region: requested {decision.requested.value}, effective {decision.effective.value}.",
        ]
        if info is not None:
            lines.append(f"Node: {info.node} ({info.region.value}).")
        lines.append(f"I leave an empty channel after {int(self.deps.idle_seconds)} s.")
        await interaction.response.send_message("\n".join(lines))
