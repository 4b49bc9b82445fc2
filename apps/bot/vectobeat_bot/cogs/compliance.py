"""Compliance: /compliance export|delete|confirm|status, run by the panel's compliance desk
(through the bridge). Only people who manage the server may use them; every answer is
ephemeral (it names a mail address or a confirmation step)."""

from __future__ import annotations

from typing import Any

from vectobeat_bot.bot import guild_of, reply
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.i18n import _, locale_str
from vectobeat_core.errors import NotEnabled
from vectobeat_core.records import status_label

__all__ = ["ComplianceCog", "describe_requests"]

PATH = "/api/bot/compliance"


def describe_requests(requests: list[dict[str, Any]], limit: int = 10) -> str:
    """The newest requests, one line each: number, kind, status and progress."""
    if not requests:
        return _("No compliance requests for this server yet.")
    kinds = {"export": _("export"), "delete": _("erasure")}
    lines = []
    for r in requests[:limit]:
        status = _(status_label(r["status"]))
        detail = f" · {r['detail']}" if r.get("detail") else ""
        lines.append(
            f"#{r['request_id']} {kinds.get(r['kind'], kinds['delete'])}: {status}{detail}"
        )
    return "\n".join(lines)


class ComplianceCog(CogBase):
    """Data export and erasure requests of a server."""

    compliance = app_commands.Group(
        name="compliance", description=locale_str("Export or erase this server's data")
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
        bridge = self._bridge(interaction, _("request a data export or erasure"))
        await interaction.response.defer(ephemeral=True, thinking=True)
        return await bridge.request(
            "POST",
            PATH,
            params={"guild_id": str(guild_of(interaction))},
            json={"kind": kind, "email": email, "user_id": str(interaction.user.id)},
        )

    @compliance.command(
        name="export", description=locale_str("Mail this server's data (JSONL and CSV)")
    )
    @app_commands.describe(email=locale_str("Where to send the export"))
    async def export(self, interaction: discord.Interaction, email: str) -> None:
        opened = await self._open(interaction, "export", email)
        await reply(
            interaction,
            _(
                "Export #{request} is being built; it is mailed to {email} when ready. Follow "
                "it with /compliance status."
            ).format(request=opened["request_id"], email=email.strip()),
            ephemeral=True,
        )

    @compliance.command(name="delete", description=locale_str("Erase all of this server's data"))
    @app_commands.describe(email=locale_str("Where to send the confirmation token"))
    async def delete(self, interaction: discord.Interaction, email: str) -> None:
        opened = await self._open(interaction, "delete", email)
        await reply(
            interaction,
            _(
                "Erasure #{request} waits for its confirmation: a token was mailed to {email}. "
                "Run /compliance confirm request:{request} token:<the token> to erase "
                "everything (or type the server's name in the panel)."
            ).format(request=opened["request_id"], email=email.strip()),
            ephemeral=True,
        )

    @compliance.command(
        name="confirm", description=locale_str("Confirm an erasure with its mailed token")
    )
    @app_commands.describe(
        request=locale_str("The erasure's request number"),
        token=locale_str("The token from the mail"),
    )
    async def confirm(
        self,
        interaction: discord.Interaction,
        request: app_commands.Range[int, 1, 2**53],
        token: app_commands.Range[str, 1, 100],
    ) -> None:
        bridge = self._bridge(interaction, _("confirm an erasure"))
        await interaction.response.defer(ephemeral=True, thinking=True)
        await bridge.request(
            "POST",
            PATH + "/confirm",
            params={"guild_id": str(guild_of(interaction))},
            json={"request_id": request, "token": token},
        )
        await reply(
            interaction,
            _(
                "Erasure #{request} confirmed: every store is erasing this server's data now; "
                "a confirmation is mailed when it is done."
            ).format(request=request),
            ephemeral=True,
        )

    @compliance.command(
        name="status", description=locale_str("This server's export and erasure requests")
    )
    async def status(self, interaction: discord.Interaction) -> None:
        bridge = self._bridge(interaction, _("see compliance requests"))
        await interaction.response.defer(ephemeral=True, thinking=True)
        found = await bridge.request("GET", PATH, params={"guild_id": str(guild_of(interaction))})
        await reply(interaction, describe_requests(found["requests"]), ephemeral=True)
