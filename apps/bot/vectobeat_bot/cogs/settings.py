"""Settings: /settings show|queue-limit|member-limit|collaborative|region (via the panel's
bridge)."""

from __future__ import annotations

from typing import Literal

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.dependencies import describe_age
from vectobeat_core.regions import placement_text
from vectobeat_core.settings import Clamp
from vectobeat_core.status import SyncState

__all__ = ["SettingsCog"]


def _clamp_note(clamps: tuple[Clamp, ...]) -> str:
    return "".join(f"\n{c.reason}" for c in clamps)


def _region_text(held: GuildSettings) -> str:
    d = held.decision
    return f"Region: requested {d.requested.value}, effective {d.effective.value}. {d.reason}"


def freshness(held: GuildSettings, sync: SyncState, *, last_known: bool, now: float) -> str | None:
    """What to say about where the shown settings come from; nothing when they are current."""
    if sync.mode == "off" or (sync.connected and not last_known):
        return None
    if held.fetched_at is None:
        return (
            "The panel is unreachable and has never sent this server's settings: these are the "
            f"{held.plan.label} plan's defaults."
        )
    return (
        "The panel is unreachable: these are the last known settings from "
        f"{describe_age(now - held.fetched_at)}."
    )


def _member_limit_text(limit: int) -> str:
    return f"at most {limit} queued (DJs exempt)" if limit else "no limit"


class SettingsCog(CogBase):
    """A guild's settings as the panel stores them."""

    settings = app_commands.Group(name="settings", description="Server settings")

    @settings.command(name="show", description="This server's settings")
    async def show(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        s = held.settings
        sync = self.deps.settings.state()
        lines = [
            f"Plan: {held.plan.label} · settings version {held.version}",
            f"Queue limit: {s.queue_limit} (plan cap {held.plan.queue_cap})",
            f"Tracks per member: {_member_limit_text(s.member_track_limit)}",
            f"Collaborative queue: {'on' if s.collaborative_queue else 'off'}",
            f"DJ roles: {len(s.dj_role_ids)} · default volume {s.default_volume}%",
            f"24/7 mode: {'on' if s.stay_connected else 'off'} · vote-skip: "
            + (f"{s.vote_skip_percent}% of listeners" if s.vote_skip_percent else "off"),
            _region_text(held),
        ]
        info = self.deps.cluster.player(held.guild_id)
        wanted = held.decision.effective
        if info is not None and wanted.pinned and info.region is not wanted:
            moved = placement_text("left_region", wanted, info.region)
            lines.append(f"Playing in {info.region.value} now. {moved}")
        note = freshness(
            held,
            sync,
            last_known=self.deps.settings.is_last_known(held.guild_id),
            now=self.deps.services.clock.now(),
        )
        if note is not None:
            lines.append(note)
        await interaction.response.send_message("\n".join(lines))

    async def _write(
        self, interaction: discord.Interaction, patch: dict[str, object]
    ) -> tuple[GuildSettings, tuple[Clamp, ...]]:
        self.check_configure(interaction, "change settings")
        await interaction.response.defer(thinking=True)
        return await self.deps.settings.update(guild_of(interaction), patch)

    @settings.command(name="queue-limit", description="How many tracks the queue may hold")
    async def queue_limit(
        self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 100_000]
    ) -> None:
        held, clamps = await self._write(interaction, {"queue_limit": limit})
        await finish(interaction, f"Queue limit: {held.settings.queue_limit}.{_clamp_note(clamps)}")

    @settings.command(
        name="member-limit", description="How many tracks one member may have queued (0: no limit)"
    )
    async def member_limit(
        self, interaction: discord.Interaction, limit: app_commands.Range[int, 0, 100_000]
    ) -> None:
        held, _ = await self._write(interaction, {"member_track_limit": limit})
        await finish(
            interaction,
            f"Tracks per member: {_member_limit_text(held.settings.member_track_limit)}.",
        )

    @settings.command(name="collaborative", description="Let everyone add tracks (or only DJs)")
    async def collaborative(self, interaction: discord.Interaction, enabled: bool) -> None:
        held, _ = await self._write(interaction, {"collaborative_queue": enabled})
        state = (
            "on: everyone may add tracks"
            if held.settings.collaborative_queue
            else "off: only DJs add tracks"
        )
        await finish(interaction, f"Collaborative queueing is {state}.")

    @settings.command(name="region", description="Where your audio plays (pinning needs Growth)")
    async def region(
        self, interaction: discord.Interaction, region: Literal["auto", "us", "eu", "apac"]
    ) -> None:
        held, clamps = await self._write(interaction, {"region": region})
        decision = held.decision
        if clamps and any(c.field == "region" for c in clamps):
            reason = next(c.reason for c in clamps if c.field == "region")
            text = f"Region: requested {region}, effective {decision.effective.value}. {reason}"
        else:
            text = _region_text(held)
        await finish(interaction, text)
