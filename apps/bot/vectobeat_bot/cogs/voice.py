"""Voice: /connect, /disconnect, /voiceinfo."""

from __future__ import annotations

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.i18n import _, locale_str
from vectobeat_core.errors import InvalidInput

__all__ = ["VoiceCog"]


class VoiceCog(CogBase):
    """Joining and leaving voice."""

    @app_commands.command(name="connect", description=locale_str("Join your voice channel"))
    async def connect(self, interaction: discord.Interaction) -> None:
        channel = self.user_voice_channel(interaction)
        await self.check_control(interaction, _("move the bot"))
        await interaction.response.defer(thinking=True)
        await self.deps.players.connect(guild_of(interaction), channel)
        await finish(interaction, _("Connected to {channel}.").format(channel=f"<#{channel}>"))

    @app_commands.command(
        name="disconnect", description=locale_str("Leave voice and clear the queue")
    )
    async def disconnect(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        await self.check_control(interaction, _("disconnect the bot"))
        if self.deps.players.voice.connected_channel(guild) is None and (
            self.deps.cluster.player(guild) is None
        ):
            raise InvalidInput(_("I am not connected to a voice channel."))
        await interaction.response.defer(thinking=True)
        await self.deps.players.disconnect(guild)
        await finish(interaction, _("Disconnected and cleared the queue."))

    @app_commands.command(
        name="voiceinfo", description=locale_str("Where the bot is connected and how")
    )
    async def voiceinfo(self, interaction: discord.Interaction) -> None:
        guild = guild_of(interaction)
        held = await self.settings_of(interaction)
        info = self.deps.cluster.player(guild)
        session = self.deps.players.peek(guild)
        channel = session.voice_channel_id if session else None
        decision = held.decision
        lines = [
            _("Voice channel: {channel}").format(
                channel=f"<#{channel}>" if channel else _("not connected")
            ),
            _("Region: requested {requested}, effective {effective}.").format(
                requested=decision.requested.value, effective=decision.effective.value
            ),
        ]
        if info is not None:
            lines.append(
                _("Node: {node} ({region}).").format(node=info.node, region=info.region.value)
            )
        lines.append(
            _("I leave an empty channel after {seconds} s.").format(
                seconds=int(self.deps.idle_seconds)
            )
        )
        await interaction.response.send_message("\n".join(lines))
