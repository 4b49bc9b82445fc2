"""Admin info: /botinfo, /guildinfo, /permissions, /membership.

/permissions computes what the bot may do from the server's roles and the channel's overwrites
(`vectobeat_core.channel_access`), so it names the overwrite that takes a permission away.
"""

from __future__ import annotations

import math

from vectobeat_adapters.i18n import phrase_text
from vectobeat_bot.bot import guild_of, reply
from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.i18n import _, error_text, locale_str
from vectobeat_core import __version__
from vectobeat_core.channel_access import (
    MemberAccess,
    MissingPermission,
    Overwrite,
    missing_permissions,
)
from vectobeat_core.errors import InvalidInput, VectoBeatError
from vectobeat_core.messages import Phrase
from vectobeat_core.plan_facts import plan_features, plan_limits
from vectobeat_core.playback import format_duration
from vectobeat_core.regions import RegionDecision
from vectobeat_core.routing import NodeView

__all__ = ["AdminInfoCog", "bot_access", "channel_overwrites", "node_line", "region_summary"]

Channel = discord.TextChannel | discord.VoiceChannel


def bot_access(guild: discord.Guild) -> MemberAccess:
    """The bot's roles and every role's server permissions, for the core's rule."""
    me = guild.me
    return MemberAccess(
        guild_id=guild.id,
        user_id=me.id,
        owner=guild.owner_id == me.id,
        role_ids=frozenset(r.id for r in me.roles if r.id != guild.id),
        role_permissions={r.id: r.permissions.value for r in guild.roles},
        role_names={r.id: r.name for r in guild.roles},
    )


def channel_overwrites(channel: discord.abc.GuildChannel) -> list[Overwrite]:
    out = []
    for target, overwrite in channel.overwrites.items():
        allow, deny = overwrite.pair()
        is_member = not isinstance(target, discord.Role)
        out.append(Overwrite(target.id, is_member, allow.value, deny.value))
    return out


def phrases(items: list[Phrase]) -> str:
    """Core phrases in the member's language, joined with semicolons."""
    return "; ".join(phrase_text(item) for item in items)


def node_line(node: NodeView) -> str:
    """``• us-1 (us): up, 12 ms``, the status in the member's language."""
    status = _(node.status.label)
    latency = _("latency unknown") if node.latency_ms is None else f"{node.latency_ms:.0f} ms"
    return f"• {node.name} ({node.spec.region.value}): {status}, {latency}"


def region_summary(decision: RegionDecision) -> str:
    """Where the guild plays; why not where it asked, when the plan lowered it."""
    region = decision.effective.value
    if decision.clamped:
        region += " " + _("(asked for {requested}: {reason})").format(
            requested=decision.requested.value, reason=phrase_text(decision.why)
        )
    return region


def _section(
    title: str, channel: discord.abc.GuildChannel, missing: list[MissingPermission]
) -> str:
    if not missing:
        return _("{kind} {channel}: the bot has everything it needs.").format(
            kind=title, channel=channel.mention
        )
    lines = [_("{kind} {channel}: the bot lacks").format(kind=title, channel=channel.mention)]
    lines += [f"• {m.name}: {phrase_text(m.why)}" for m in missing]
    return "\n".join(lines)


class AdminInfoCog(CogBase):
    """What admins ask about the bot, their server, its plan and the bot's permissions."""

    @app_commands.command(
        name="botinfo", description=locale_str("Version, uptime, shards, nodes, latency")
    )
    async def botinfo(self, interaction: discord.Interaction) -> None:
        bot = self.bot
        uptime = self.deps.services.clock.now() - self.deps.started_at
        latency = bot.latency
        gateway = f"{latency * 1000:.0f} ms" if math.isfinite(latency) else _("unknown")
        shards = sorted(bot.shards)
        nodes = self.deps.cluster.nodes()
        node_lines = [node_line(n) for n in nodes]
        healthy = sum(1 for n in nodes if n.routable)
        text = "\n".join(
            [
                f"VectoBeat {__version__}",
                _("Uptime: {duration}").format(duration=format_duration(int(uptime * 1000))),
                _("Shards here: {shards} of {count}").format(
                    shards=", ".join(map(str, shards)) or _("none"), count=bot.shard_count or 1
                ),
                _("Gateway latency: {latency}").format(latency=gateway),
                _("Guilds: {guilds} · players: {players}").format(
                    guilds=len(bot.guilds), players=len(self.deps.cluster.players())
                ),
                _("Lavalink nodes: {up}/{nodes} healthy").format(up=healthy, nodes=len(nodes)),
                *node_lines,
            ]
        )
        await reply(interaction, text)

    @app_commands.command(
        name="guildinfo", description=locale_str("This server's plan, region, limits")
    )
    async def guildinfo(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        guild = interaction.guild
        name = guild.name if guild is not None else str(guild_of(interaction))
        text = "\n".join(
            [
                f"**{name}**",
                _("Plan: {plan}").format(plan=held.plan.label),
                _("Region: {region}").format(region=region_summary(held.decision)),
                _("Limits: {limits}").format(limits=phrases(plan_limits(held.plan))),
                _("Features: {features}").format(features=phrases(plan_features(held.plan))),
            ]
        )
        await reply(interaction, text)

    @app_commands.command(
        name="permissions", description=locale_str("What the bot lacks in a channel, and why")
    )
    @app_commands.describe(
        channel=locale_str("A text or voice channel (default: here and your voice channel)")
    )
    async def permissions(
        self, interaction: discord.Interaction, channel: Channel | None = None
    ) -> None:
        self.check_configure(interaction, _("check the bot's permissions"))
        guild = interaction.guild
        if guild is None:
            raise app_commands.NoPrivateMessage()
        targets: list[discord.abc.GuildChannel] = []
        if channel is not None:
            found = guild.get_channel(channel.id)
            if found is None:
                raise InvalidInput("That channel is not in this server.")
            targets.append(found)
        else:
            here = guild.get_channel(interaction.channel_id or 0)
            if here is not None:
                targets.append(here)
            member = guild.get_member(interaction.user.id)
            voice = member.voice.channel if member and member.voice else None
            if isinstance(voice, discord.VoiceChannel):
                targets.append(voice)
        if not targets:
            raise InvalidInput("Name a text or voice channel of this server.")
        access = bot_access(guild)
        sections = []
        for target in targets:
            voice_channel = isinstance(target, discord.VoiceChannel)
            missing = missing_permissions(access, channel_overwrites(target), voice=voice_channel)
            sections.append(_section(_("Voice") if voice_channel else _("Text"), target, missing))
        await reply(interaction, "\n\n".join(sections), ephemeral=True)

    @app_commands.command(
        name="membership", description=locale_str("This server's plan, limits, upgrade")
    )
    async def membership(self, interaction: discord.Interaction) -> None:
        held = await self.settings_of(interaction)
        plan = held.plan
        lines = [
            _("Plan: {plan}").format(plan=plan.label),
            _("Limits: {limits}").format(limits=phrases(plan_limits(plan))),
            _("Includes: {features}").format(features=phrases(plan_features(plan))),
        ]
        lines.append(await self._upgrade_line(interaction))
        await reply(interaction, "\n".join(lines), ephemeral=True)

    async def _upgrade_line(self, interaction: discord.Interaction) -> str:
        bridge = self.deps.bridge
        if bridge is None:
            return _("Plans are managed by this bot's operator.")
        try:
            answer = await bridge.request(
                "GET", "/api/bot/membership", params={"guild_id": str(guild_of(interaction))}
            )
        except VectoBeatError as exc:
            return _("The upgrade link is not available right now: {problem}").format(
                problem=error_text(exc)
            )
        url = answer.get("upgrade_url") if isinstance(answer, dict) else None
        if not isinstance(url, str):
            return _("Online billing is off; ask this bot's operator to change the plan.")
        return _("Upgrade or manage billing: {url}").format(url=url)
