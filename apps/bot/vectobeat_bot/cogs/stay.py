"""24/7 mode: /247 turns the ``stay_connected`` setting on or off (plan-gated, via the bridge).

With it on, the idle-voice watcher never leaves the guild's channel (`vectobeat_bot.runtime`)
and a restart rejoins it with an empty queue (`PlayerService` restores it).
"""

from __future__ import annotations

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.i18n import _, locale_str
from vectobeat_core.errors import InvalidInput, LimitExceeded
from vectobeat_core.ids import ChannelId

__all__ = ["StayCog"]


class StayCog(CogBase):
    """The bot stays in voice around the clock where the plan allows it."""

    @app_commands.command(
        name="247", description=locale_str("24/7 mode: stay in voice with an empty queue")
    )
    @app_commands.describe(
        enabled=locale_str("On: stay in the voice channel; off: leave it when idle")
    )
    async def stay(self, interaction: discord.Interaction, enabled: bool) -> None:
        self.check_configure(interaction, _("change 24/7 mode"))
        guild = guild_of(interaction)
        held = await self.settings_of(interaction)
        if enabled and not held.plan.stay_connected:
            tier = self.deps.settings.catalogue.lowest_tier_with(lambda p: p.stay_connected)
            if tier is None:
                raise LimitExceeded(
                    "24/7 mode is not included in this server's plan ({plan}); no plan has it.",
                    plan=held.plan.label,
                )
            raise LimitExceeded(
                "24/7 mode is not included in this server's plan ({plan}); it needs {tier} or "
                "higher.",
                plan=held.plan.label,
                tier=tier.label,
            )
        await interaction.response.defer(thinking=True)
        held, _clamps = await self.deps.settings.update(guild, {"stay_connected": enabled})
        if not held.settings.stay_connected:
            await finish(
                interaction, _("24/7 mode is off: I leave an empty voice channel when idle.")
            )
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
                    _(
                        "24/7 mode is on. I am not in a voice channel: /connect (or /play) "
                        "from yours and I stay there."
                    ),
                )
                return
            await self.deps.players.connect(guild, channel)
            joined = channel
        await finish(
            interaction,
            _("24/7 mode is on: I stay in {channel}, even with nothing queued.").format(
                channel=f"<#{joined}>"
            ),
        )
