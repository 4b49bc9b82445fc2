"""Info: /ping, /status, /lavalink, /uptime, /help."""

from __future__ import annotations

import math

from vectobeat_bot.cogs.base import CogBase
from vectobeat_bot.discord_compat import app_commands, discord
from vectobeat_bot.formatting import age_text
from vectobeat_bot.i18n import N_, _, locale_str
from vectobeat_core.dependencies import DependencyState, DependencyStatus
from vectobeat_core.playback import format_duration

__all__ = ["InfoCog", "dependency_line"]


def dependency_line(dep: DependencyStatus, now: float) -> str:
    """``redis: down since 3 min ago``, in the member's language."""
    state = _(dep.state.label)
    line = f"{dep.name}: {state}"
    if dep.since is not None:
        line += " " + _("since {age}").format(age=age_text(now - dep.since))
    return line


HELP = N_("""**VectoBeat**
Music: /play /playnext /search /previous /pause /resume /skip /stop /nowplaying /seek /replay /volume /loop
Queue: /queue /queueinfo /remove /move /shuffle /dedupe /clear /jump
Playlists: /playlist save|load|list|delete
Voice: /connect /disconnect /voiceinfo
DJ: /dj add-role|remove-role|clear|show
Settings: /settings show|queue-limit|member-limit|collaborative|region
Info: /ping /status /lavalink /uptime /botinfo /guildinfo /permissions /membership /help
Care: /concierge request|usage|list · /success request|contact
Staff: /concierge acknowledge|schedule|resolve · /success assign""")


class InfoCog(CogBase):
    """Health and help."""

    @app_commands.command(name="ping", description=locale_str("Gateway latency"))
    async def ping(self, interaction: discord.Interaction) -> None:
        latency = self.bot.latency
        shown = f"{latency * 1000:.0f} ms" if math.isfinite(latency) else _("unknown")
        await interaction.response.send_message(
            _("Pong! Gateway latency {latency}.").format(latency=shown)
        )

    @app_commands.command(
        name="status", description=locale_str("Bot, nodes and settings sync health")
    )
    async def status(self, interaction: discord.Interaction) -> None:
        sync = self.deps.settings.state()
        nodes = self.deps.cluster.nodes()
        up = sum(1 for n in nodes if n.routable)
        if sync.mode == "off":
            sync_text = _("Settings sync: off (no panel bridge configured).")
        elif sync.connected:
            sync_text = _("Settings sync: {mode}, connected.").format(mode=sync.mode)
        else:
            now = self.deps.services.clock.now()
            answered = (
                _("it has not answered since this start")
                if sync.last_sync_at is None
                else _("it last answered {age}").format(age=age_text(now - sync.last_sync_at))
            )
            sync_text = _(
                "Settings sync: {mode}, the panel is unreachable; using the last known "
                "settings ({answered})."
            ).format(mode=sync.mode, answered=answered)
        players = self.deps.players
        text = _(
            "Guilds: {guilds} · players: {players} · queued tracks: {tracks}\n"
            "Lavalink nodes: {up}/{nodes} healthy"
        ).format(
            guilds=len(self.bot.guilds),
            players=len(self.deps.cluster.players()),
            tracks=players.queue_tracks(),
            up=up,
            nodes=len(nodes),
        )
        await interaction.response.send_message(f"{text}\n{sync_text}{self._missing()}")

    def _missing(self) -> str:
        """A line per store or bridge that is not up, with how long (nodes are counted above)."""
        now = self.deps.services.clock.now()
        lines = [
            "\n" + dependency_line(dep, now)
            for dep in self.deps.dependencies.statuses()
            if not dep.name.startswith("lavalink:")
            and dep.state not in (DependencyState.UP, DependencyState.NOT_CONFIGURED)
        ]
        return "".join(lines)

    @app_commands.command(
        name="lavalink", description=locale_str("Lavalink nodes, regions, health and players")
    )
    async def lavalink(self, interaction: discord.Interaction) -> None:
        lines = []
        for view in self.deps.cluster.nodes():
            players = view.stats.players if view.stats else 0
            latency = "?" if view.latency_ms is None else f"{view.latency_ms:.0f} ms"
            lines.append(
                _("• {node} ({region}): {status}, {players} players, {latency}").format(
                    node=view.name,
                    region=view.spec.region.value,
                    status=_(view.status.label),
                    players=players,
                    latency=latency,
                )
            )
        await interaction.response.send_message(
            "\n".join(lines) or _("No Lavalink node is configured.")
        )

    @app_commands.command(
        name="uptime", description=locale_str("How long the bot has been running")
    )
    async def uptime(self, interaction: discord.Interaction) -> None:
        seconds = self.deps.services.clock.now() - self.deps.started_at
        await interaction.response.send_message(
            _("Up for {duration}.").format(duration=format_duration(int(seconds * 1000)))
        )

    @app_commands.command(name="help", description=locale_str("What VectoBeat can do"))
    async def help(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(_(HELP), ephemeral=True)
