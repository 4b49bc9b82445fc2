"""Settings: /settings show|queue-limit|member-limit|collaborative|region (via the panel's
bridge)."""

from __future__ import annotations

from typing import Literal

from vectobeat_bot.bot import finish, guild_of
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import age_text
from vectobeat_bot.i18n import _, locale_str, phrase_text
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.regions import placement_message
from vectobeat_core.settings import Clamp
from vectobeat_core.status import SyncState

__all__ = ["SettingsCog", "clamp_note", "region_text"]


def clamp_note(clamps: tuple[Clamp, ...]) -> str:
    """Why each value was lowered to the plan, a line each, in the member's language."""
    return "".join(f"\n{phrase_text(c.why)}" for c in clamps)


def region_text(held: GuildSettings) -> str:
    """The requested and effective region and why, in the member's language."""
    d = held.decision
    return _("Region: requested {requested}, effective {effective}.").format(
        requested=d.requested.value, effective=d.effective.value
    ) + (f" {phrase_text(d.why)}" if d.reason else "")


def freshness(held: GuildSettings, sync: SyncState, *, last_known: bool, now: float) -> str | None:
    """What to say about where the shown settings come from; nothing when they are current."""
    if sync.mode == "off" or (sync.connected and not last_known):
        return None
    if held.fetched_at is None:
        return _(
            "The panel is unreachable and has never sent this server's settings: these are the "
            "{plan} plan's defaults."
        ).format(plan=held.plan.label)
    return _("The panel is unreachable: these are the last known settings from {age}.").format(
        age=age_text(now - held.fetched_at)
    )


def _member_limit_text(limit: int) -> str:
    if not limit:
        return _("no limit")
    return _("at most {limit} queued (DJs exempt)").format(limit=limit)


class SettingsCog(CogBase):
    """A guild's settings as the panel stores them."""

    settings = app_commands.Group(name="settings", description=locale_str("Server settings"))

    @settings.command(name="show", description=locale_str("This server's settings"))
    async def show(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        s = held.settings
        sync = self.deps.settings.state()
        lines = [
            _("Plan: {plan} · settings version {version}").format(
                plan=held.plan.label, version=held.version
            ),
            _("Queue limit: {limit} (plan cap {cap})").format(
                limit=s.queue_limit, cap=held.plan.queue_cap
            ),
            _("Tracks per member: {limit}").format(limit=_member_limit_text(s.member_track_limit)),
            _("Collaborative queue: {state}").format(
                state=_("on") if s.collaborative_queue else _("off")
            ),
            _("DJ roles: {count} · default volume {volume}%").format(
                count=len(s.dj_role_ids), volume=s.default_volume
            ),
            _("24/7 mode: {mode} · vote-skip: {vote}").format(
                mode=_("on") if s.stay_connected else _("off"),
                vote=_("{percent}% of listeners").format(percent=s.vote_skip_percent)
                if s.vote_skip_percent
                else _("off"),
            ),
            region_text(held),
        ]
        info = self.deps.cluster.player(held.guild_id)
        wanted = held.decision.effective
        if info is not None and wanted.pinned and info.region is not wanted:
            moved = phrase_text(placement_message("left_region", wanted, info.region))
            lines.append(
                _("Playing in {region} now.").format(region=info.region.value) + f" {moved}"
            )
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
        self.check_configure(interaction, _("change settings"))
        await interaction.response.defer(thinking=True)
        return await self.deps.settings.update(guild_of(interaction), patch)

    @settings.command(
        name="queue-limit", description=locale_str("How many tracks the queue may hold")
    )
    @app_commands.describe(limit=locale_str("1 to 100000"))
    async def queue_limit(
        self, interaction: discord.Interaction, limit: app_commands.Range[int, 1, 100_000]
    ) -> None:
        held, clamps = await self._write(interaction, {"queue_limit": limit})
        text = _("Queue limit: {limit}.").format(limit=held.settings.queue_limit)
        await finish(interaction, text + clamp_note(clamps))

    @settings.command(
        name="member-limit",
        description=locale_str("How many tracks one member may have queued (0: no limit)"),
    )
    @app_commands.describe(limit=locale_str("0 (no limit) to 100000"))
    async def member_limit(
        self, interaction: discord.Interaction, limit: app_commands.Range[int, 0, 100_000]
    ) -> None:
        held, _clamps = await self._write(interaction, {"member_track_limit": limit})
        await finish(
            interaction,
            _("Tracks per member: {limit}.").format(
                limit=_member_limit_text(held.settings.member_track_limit)
            ),
        )

    @settings.command(
        name="collaborative", description=locale_str("Let everyone add tracks (or only DJs)")
    )
    @app_commands.describe(enabled=locale_str("On: everyone may add tracks; off: only DJs"))
    async def collaborative(self, interaction: discord.Interaction, enabled: bool) -> None:
        held, _clamps = await self._write(interaction, {"collaborative_queue": enabled})
        text = (
            _("Collaborative queueing is on: everyone may add tracks.")
            if held.settings.collaborative_queue
            else _("Collaborative queueing is off: only DJs add tracks.")
        )
        await finish(interaction, text)

    @settings.command(
        name="region", description=locale_str("Where your audio plays (pinning needs Growth)")
    )
    @app_commands.describe(region=locale_str("auto, or a region to pin"))
    async def region(
        self, interaction: discord.Interaction, region: Literal["auto", "us", "eu", "apac"]
    ) -> None:
        held, clamps = await self._write(interaction, {"region": region})
        decision = held.decision
        if clamps and any(c.field == "region" for c in clamps):
            reason = phrase_text(next(c.why for c in clamps if c.field == "region"))
            text = _("Region: requested {requested}, effective {effective}.").format(
                requested=region, effective=decision.effective.value
            )
            text += f" {reason}"
        else:
            text = region_text(held)
        await finish(interaction, text)
