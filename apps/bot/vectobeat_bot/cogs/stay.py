"""24/7 mode: /247 turns the ``stay_connected`` setting on or off (plan-gated, via the bridge).

With it on, the idle-voice watcher never leaves the guild's channel (`vectobeat_bot.runtime`)
and a restart rejoins it with an empty queue (`PlayerService` restores it).
"""

from __future__ import annotations

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_core.errors import InvalidInput, LimitExceeded
from vectobeat_core.ids import ChannelId

__all__ = ["StayCog"]


class StayCog(CogBase):
    """The bot stays in voice around the clock where the plan allows it."""

    @app_commands.command(name="247", description="24/7 mode: stay in voice with an empty queue")
    @app_commands.describe(enabled="On: stay in the voice channel; off: leave it when idle")
    async def stay(self, interaction: discord.Interaction, enabled: bool) -> None:
        self.check_configure(interaction, "change 24/7 mode")
        guild = guild_of(interaction)
        held = await self.settings_of(interaction)
        if enabled and not held.plan.stay_connected:
            tier = self.deps.settings.catalogue.lowest_tier_with(lambda p: p.stay_connected)
            needs = f"it needs {tier.label} or higher" if tier is not None else "no plan has it"
            raise LimitExceeded(
                f"24/7 mode is not included in this server's plan ({held.plan.label}); {needs}."
            )
        await interaction.response.defer(thinking=True)
        held, _ = await self.deps.settings.update(guild, {"stay_connected": enabled})
        if not held.settings.stay_connected:
            await finish(interaction, "24/7 mode is off: I leave an empty voice channel when idle.")
            return
        joined = self.deps.players.voice.connected_channel(guild)
        if joined is None:
            try:
                channel: ChannelId | None = self.user_voice_channel(interaction)
            except InvalidInput:
                channel = None
            if channel is None:
                await finish(
                    interaction,
                    "24/7 mode is on. I am not in a voice channel: /connect (or /play) from "
                    "yours and I stay there.",
                )
                return
            await self.deps.players.connect(guild, channel)
            joined = channel
        await finish(
            interaction, f"24/7 mode is on: I stay in <#{joined}>, even with nothing queued."
        )
