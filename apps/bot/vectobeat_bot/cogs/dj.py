"""DJ: /dj add-role|remove-role|clear|show (stored in the guild's settings via the panel)."""

from __future__ import annotations

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.i18n import _, locale_str
from vectobeat_core.errors import InvalidInput

__all__ = ["DjCog"]


class DjCog(CogBase):
    """Who counts as a DJ."""

    dj = app_commands.Group(name="dj", description=locale_str("DJ roles"))

    async def _write(self, interaction: discord.Interaction, roles: list[int]) -> None:
        await interaction.response.defer(thinking=True)
        await self.deps.settings.update(
            guild_of(interaction), {"dj_role_ids": [str(r) for r in roles]}
        )

    @dj.command(name="add-role", description=locale_str("Make a role a DJ role"))
    @app_commands.describe(role=locale_str("The role"))
    async def add_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        self.check_configure(interaction, _("change DJ roles"))
        held = await self.settings_of(interaction)
        roles = list(held.settings.dj_role_ids)
        if role.id in roles:
            raise InvalidInput("{role} is already a DJ role.", role=role.name)
        await self._write(interaction, [*roles, role.id])
        await finish(interaction, _("{role} is now a DJ role.").format(role=role.name))

    @dj.command(name="remove-role", description=locale_str("Stop treating a role as a DJ role"))
    @app_commands.describe(role=locale_str("The role"))
    async def remove_role(self, interaction: discord.Interaction, role: discord.Role) -> None:
        self.check_configure(interaction, _("change DJ roles"))
        held = await self.settings_of(interaction)
        roles = list(held.settings.dj_role_ids)
        if role.id not in roles:
            raise InvalidInput("{role} is not a DJ role.", role=role.name)
        await self._write(interaction, [r for r in roles if r != role.id])
        await finish(interaction, _("{role} is no longer a DJ role.").format(role=role.name))

    @dj.command(
        name="clear", description=locale_str("Remove every DJ role (everyone may control playback)")
    )
    async def clear(self, interaction: discord.Interaction) -> None:
        self.check_configure(interaction, _("change DJ roles"))
        await self._write(interaction, [])
        await finish(interaction, _("DJ roles cleared: everyone may control playback."))

    @dj.command(name="show", description=locale_str("The DJ roles of this server"))
    async def show(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        roles = held.settings.dj_role_ids
        if not roles:
            text = _("No DJ roles: everyone may control playback.")
        else:
            text = _("DJ roles: {roles}").format(roles=", ".join(f"<@&{r}>" for r in roles))
        if not held.settings.collaborative_queue:
            text += "\n" + _("Collaborative queueing is off: only DJs add tracks.")
        await interaction.response.send_message(text)
