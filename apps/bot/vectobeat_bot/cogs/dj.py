"""DJ: /dj add-role|remove-role|clear|show (stored in the guild's settings via the panel)."""

from __future__ import annotations

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_core.errors import InvalidInput

__all__ = ["DjCog"]


class DjCog(CogBase):
    """Who counts as a DJ."""

    dj = app_commands.Group(name="dj", description="DJ roles")

    async def _write(self, interaction: discord.Interaction, roles: list[int]) -> None:
        await interaction.response.defer(thinking=True)
        await self.deps.settings.update(
            guild_of(interaction), {"dj_role_ids": [str(r) for r in roles]}
        )

    @dj.command(name="add-role", description="Make a role a DJ role")
    async def add_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        self.check_configure(interaction, "change DJ roles")
        held = await self.settings_of(interaction)
        roles = list(held.settings.dj_role_ids)
        if role.id in roles:
            raise InvalidInput(f"{role.name} is already a DJ role.")
        await self._write(interaction, [*roles, role.id])
        await finish(interaction, f"{role.name} is now a DJ role.")

    @dj.command(name="remove-role", description="Stop treating a role as a DJ role")
    async def remove_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        self.check_configure(interaction, "change DJ roles")
        held = await self.settings_of(interaction)
        roles = list(held.settings.dj_role_ids)
        if role.id not in roles:
            raise InvalidInput(f"{role.name} is not a DJ role.")
        await self._write(interaction, [r for r in roles if r != role.id])
        await finish(interaction, f"{role.name} is no longer a DJ role.")

    @dj.command(name="clear", description="Remove every DJ role (everyone may control playback)")
    async def clear(self, interaction: discord.Interaction) -> None:
        self.check_configure(interaction, "change DJ roles")
        await self._write(interaction, [])
        await finish(interaction, "DJ roles cleared: everyone may control playback.")

    @dj.command(name="show", description="The DJ roles of this server")
    async def show(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        roles = held.settings.dj_role_ids
        if not roles:
            text = "No DJ roles: everyone may control playback."
        else:
            text = "DJ roles: " + ", ".join(f"<@&{r}>" for r in roles)
        if not held.settings.collaborative_queue:
            text += "\nCollaborative queueing is off: only DJs add tracks."
        await interaction.response.send_message(text)
