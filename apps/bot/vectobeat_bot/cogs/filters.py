"""Filters: /filter preset|equalizer|band|timescale|show|reset (`vectobeat_core.filters`)."""

from __future__ import annotations

from collections.abc import Mapping

from vectobeat_bot.bot import guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import effects_line
from vectobeat_bot.i18n import _, locale_str
from vectobeat_core.filters import (
    EQUALIZER_PRESETS,
    PRESETS,
    Effects,
    Preset,
    band_effect,
    equalizer_effect,
    preset_effect,
    timescale_effect,
)
from vectobeat_core.jsontypes import JSONObject

__all__ = ["FilterCog"]


def _choices(presets: Mapping[str, Preset]) -> list[app_commands.Choice[str]]:
    """One choice per preset: its label (in the member's language, by the translator), its key."""
    return [app_commands.Choice(name=locale_str(p.label), value=key) for key, p in presets.items()]


class FilterCog(CogBase):
    """Audio effects, stacked over the guild's playback quality and kept across moves."""

    filter_group = app_commands.Group(
        name="filter", description=locale_str("Audio filters and effects")
    )

    async def _add(self, interaction: discord.Interaction, effect: tuple[str, JSONObject]) -> None:
        await self.check_control(interaction, _("change the filters"))
        name, filters = effect
        effects = await self.deps.players.set_effects(
            guild_of(interaction), lambda current: current.with_effect(name, filters)
        )
        await interaction.response.send_message(effects_line(effects))

    @filter_group.command(
        name="preset", description=locale_str("Add an effect: bass boost, nightcore, 8D, ...")
    )
    @app_commands.describe(
        name=locale_str("The effect to add (it replaces one that sets the same filter)")
    )
    @app_commands.choices(name=_choices(PRESETS))
    async def preset(self, interaction: discord.Interaction, name: str) -> None:
        await self._add(interaction, preset_effect(name))

    @filter_group.command(
        name="equalizer", description=locale_str("A named 15-band equalizer setting")
    )
    @app_commands.describe(preset=locale_str("The equalizer setting"))
    @app_commands.choices(preset=_choices(EQUALIZER_PRESETS))
    async def equalizer(self, interaction: discord.Interaction, preset: str) -> None:
        await self._add(interaction, equalizer_effect(preset))

    @filter_group.command(
        name="band", description=locale_str("Set one equalizer band (0-14) to a gain")
    )
    @app_commands.describe(
        band=locale_str("0 (lowest) to 14 (highest)"),
        gain=locale_str("-0.25 to 1.0 (0: unchanged)"),
    )
    async def band(self, interaction: discord.Interaction, band: int, gain: float) -> None:
        session = self.deps.players.peek(guild_of(interaction))
        current = Effects() if session is None else session.effects
        await self._add(interaction, band_effect(current, band, gain))

    @filter_group.command(
        name="timescale", description=locale_str("Speed, pitch and rate (1.0: unchanged)")
    )
    @app_commands.describe(
        speed=locale_str("Tempo, > 0"),
        pitch=locale_str("Pitch, > 0"),
        rate=locale_str("Both at once, > 0"),
    )
    async def timescale(
        self,
        interaction: discord.Interaction,
        speed: float = 1.0,
        pitch: float = 1.0,
        rate: float = 1.0,
    ) -> None:
        await self._add(interaction, timescale_effect(speed, pitch, rate))

    @filter_group.command(name="show", description=locale_str("The filters playing now"))
    async def show(self, interaction: discord.Interaction) -> None:
        session = self.deps.players.peek(guild_of(interaction))
        effects = Effects() if session is None else session.effects
        await interaction.response.send_message(effects_line(effects))

    @filter_group.command(name="reset", description=locale_str("Remove every effect"))
    async def reset(self, interaction: discord.Interaction) -> None:
        await self.check_control(interaction, _("change the filters"))
        await self.deps.players.set_effects(guild_of(interaction), lambda _current: Effects())
        await interaction.response.send_message(
            _("Filters reset: playing with the playback quality's own filters only.")
        )
