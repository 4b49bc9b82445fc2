"""Compliance: /compliance export|delete|confirm|status, run by the panel's compliance desk
(through the bridge). Only people who manage the server may use them; every answer is
ephemeral (it names a mail address or a confirmation step)."""

from __future__ import annotations

from typing import Any

from vectobeat_bot.bot import guild_of, reply
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_core.errors import NotEnabled

__all__ = ["ComplianceCog", "describe_requests"]

PATH = "/api/bot/compliance"


def describe_requests(requests: list[dict[str, Any]], limit: int = 10) -> str:
    """The newest requests, one line each: number, kind, status and progress."""
    if not requests:
        return "No compliance requests for this server yet."
    lines = [
        f"#{r['request_id']} {'export' if r['kind'] == 'export' else 'erasure'}: "
        f"{r['status']}{' · ' + r['detail'] if r.get('detail') else ''}"
        for r in requests[:limit]
    ]
    return "\n".join(lines)


class ComplianceCog(CogBase):
    """Data export and erasure requests of a server."""

    compliance = app_commands.Group(
        name="compliance", description="Export or erase this server's data"
    )

    def _bridge(self, interaction: discord.Interaction, what: str) -> BridgeClient:
        self.check_configure(interaction, what)
        bridge = self.deps.bridge
        if bridge is None:
            raise NotEnabled(
                "The compliance desk lives in the control panel, and this bot has no panel "
                "bridge (BOT_BRIDGE_TOKEN is not set)."
            )
        return bridge

    async def _open(self, interaction: discord.Interaction, kind: str, email: str) -> Any:
        bridge = self._bridge(interaction, "request a data export or erasure")
        await interaction.response.defer(ephemeral=True, thinking=True)
        return await bridge.request(
            "POST",
            PATH,
            params={"guild_id": str(guild_of(interaction))},
            json={"kind": kind, "email": email, "user_id": str(interaction.user.id)},
        )

    @compliance.command(name="export", description="Mail this server's data (JSONL and CSV)")
    @app_commands.describe(email="Where to send the export")
    async def export(self, interaction: discord.Interaction, email: str) -> None:
        opened = await self._open(interaction, "export", email)
        await reply(
            interaction,
            f"Export #{opened['request_id']} is being built; it is mailed to {email.strip()} "
            "when ready. Follow it with /compliance status.",
            ephemeral=True,
        )

    @compliance.command(name="delete", description="Erase all of this server's data")
    @app_commands.describe(email="Where to send the confirmation token")
    async def delete(self, interaction: discord.Interaction, email: str) -> None:
        opened = await self._open(interaction, "delete", email)
        await reply(
            interaction,
            f"Erasure #{opened['request_id']} waits for its confirmation: a token was mailed to "
            f"{email.strip()}. Run /compliance confirm request:{opened['request_id']} "
            "token:<the token> to erase everything (or type the server's name in the panel).",
            ephemeral=True,
        )

    @compliance.command(name="confirm", description="Confirm an erasure with its mailed token")
    async def confirm(
        self,
        interaction: discord.Interaction,
        request: app_commands.Range[int, 1, 2**53],
        token: app_commands.Range[str, 1, 100],
    ) -> None:
        bridge = self._bridge(interaction, "confirm an erasure")
        await interaction.response.defer(ephemeral=True, thinking=True)
        await bridge.request(
            "POST",
            PATH + "/confirm",
            params={"guild_id": str(guild_of(interaction))},
            json={"request_id": request, "token": token},
        )
        await reply(
            interaction,
            f"Erasure #{request} confirmed: every store is erasing this server's data now; "
            "a confirmation is mailed when it is done.",
            ephemeral=True,
        )

    @compliance.command(name="status", description="This server's export and erasure requests")
    async def status(self, interaction: discord.Interaction) -> None:
        bridge = self._bridge(interaction, "see compliance requests")
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await bridge.request("GET", PATH, params={"guild_id": str(guild_of(interaction))})
        await reply(interaction, describe_requests(found["requests"]), ephemeral=True)
