"""``VectoBeatBot``: the discord.py `AutoShardedBot` that receives its services in the constructor.

Cogs (one per feature) are added in `setup_hook`, which also syncs the slash commands (one process
at a time, only when the tree changed: `vectobeat_bot.command_sync`).
`VectoBeatTree.on_error` is the ONE place errors become clear ephemeral messages; commands that
may take longer than Discord's 3 seconds defer first (`reply` answers either way).

With shard leases (``shard_ids=[]``) the bot connects no shard by itself: `start_shards` launches
the shards it holds or took over, `stop_shard` closes one it was fenced from.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import attrs

from vectobeat_adapters.care_desk import CareDesk
from vectobeat_adapters.config import AppConfig
from vectobeat_adapters.file_command_sync import FileCommandSync
from vectobeat_adapters.logging_setup import bind_log_context
from vectobeat_adapters.services import Services
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.bridge_events import BridgeEvents
from vectobeat_bot.command_sync import sync_command_tree
from vectobeat_bot.dependency_board import DependencyBoard
from vectobeat_bot.discord_compat import (
    DiscordWebSocket,
    app_commands,
    commands,
    discord,
    gate_gateway_sessions,
)
from vectobeat_bot.heartbeat import Heartbeat
from vectobeat_bot.i18n import CatalogueTranslator, _, answer_in_language_of, error_text
from vectobeat_bot.nowplaying import NowPlayingBoard
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.region_notices import RegionNotices
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_bot.shard_liveness import ShardLiveness
from vectobeat_bot.status_server import BotMetrics
from vectobeat_core.errors import InvalidInput, StorageUnavailable, VectoBeatError
from vectobeat_core.ids import GuildId, RoleId, UserId
from vectobeat_core.permissions import MemberFacts
from vectobeat_core.ports import Lavalink
from vectobeat_core.shards import shard_of

__all__ = [
    "BotDeps",
    "VectoBeatBot",
    "VectoBeatTree",
    "finish",
    "guild_of",
    "member_facts",
    "reply",
]

if TYPE_CHECKING:
    from vectobeat_bot.automation import AutomationEngine

_log = logging.getLogger("vectobeat.bot")
gate_gateway_sessions()


@attrs.define(eq=False)
class BotDeps:
    """Everything the cogs use, opened once by the composition root."""

    config: AppConfig
    services: Services
    settings: SettingsSync
    players: PlayerService
    cluster: Lavalink
    metrics: BotMetrics
    board: NowPlayingBoard
    events: BridgeEvents
    started_at: float
    dependencies: DependencyBoard
    heartbeat: Heartbeat = attrs.Factory(Heartbeat)
    notices: RegionNotices = attrs.Factory(RegionNotices)
    idle_seconds: float = 300.0
    fast_identify: bool = False
    standby: bool = False
    """A hot spare holding no shard yet: ready without a Discord connection."""
    active_shards: set[int] | None = None
    """With shard leases: the shards this process runs now (``None``: all it launched)."""
    ready: anyio.Event = attrs.Factory(anyio.Event)
    restored: anyio.Event = attrs.Factory(anyio.Event)
    restore_needed: bool = False
    """The queue store could not be read at start: restore once it is back."""
    automation: AutomationEngine | None = None
    """The automation engine (throttle, duplicate trim, idle restarts); ``None``: none."""
    care: CareDesk | None = None
    """Concierge, success pod and contacts (``None``: the cogs say it is not available)."""
    bridge: BridgeClient | None = None
    """The panel bridge client (``None`` without ``BOT_BRIDGE_TOKEN``): membership and compliance."""
    instance: str = "bot"
    """This process's name (``host:pid``): its shard leases and the command sync lock."""


async def reply(
    interaction: discord.Interaction,
    content: str,
    *,
    ephemeral: bool = False,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Answer ``interaction`` whether or not it was deferred."""
    extra: dict[str, Any] = {}
    if embed is not None:
        extra["embed"] = embed
    if view is not None:
        extra["view"] = view
    if not interaction.response.is_done():
        await interaction.response.send_message(content, ephemeral=ephemeral, **extra)
        return
    await interaction.followup.send(content, ephemeral=ephemeral, wait=False, **extra)


async def finish(interaction: discord.Interaction, content: str) -> None:
    """The final answer: edits the deferred "thinking" response, or responds directly."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=content)
    else:
        await interaction.response.send_message(content)


def guild_of(interaction: discord.Interaction) -> GuildId:
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    return GuildId(interaction.guild_id)


def member_facts(interaction: discord.Interaction) -> MemberFacts:
    """The facts the core's DJ rules need about the member running a command."""
    user = interaction.user
    roles = (
        frozenset(RoleId(r.id) for r in user.roles)
        if isinstance(user, discord.Member)
        else frozenset()
    )
    guild = interaction.guild
    return MemberFacts(
        user_id=UserId(user.id),
        role_ids=roles,
        owner=guild is not None and guild.owner_id == user.id,
        permissions=interaction.permissions.value,
    )


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError):
        inner = (
            error.__cause__ if isinstance(error, app_commands.TransformerError) else error.original
        )
        if inner is None:
            break
        error = inner
    return error


def user_message(error: BaseException) -> str:
    """What the user reads for ``error`` (never a traceback)."""
    error = _unwrap(error)
    if isinstance(error, VectoBeatError):
        return error_text(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return _("VectoBeat commands work in servers, not in direct messages.")
    if isinstance(error, app_commands.TransformerError):
        return _("{value} is not a valid value for this option.").format(value=repr(error.value))
    if isinstance(error, app_commands.CheckFailure):
        return _("You cannot use this command here.")
    return _("Something went wrong on our side; the error was logged. Please try again.")


class VectoBeatTree(app_commands.CommandTree["VectoBeatBot"]):
    """The command tree whose `on_error` is the one place errors become messages, and whose
    `interaction_check` (every slash command passes it) applies the automation throttle."""

    async def interaction_check(self, interaction: discord.Interaction[VectoBeatBot]) -> bool:
        answer_in_language_of(interaction)  # this task answers in the member's language
        bind_log_context(  # each interaction runs in its own task: the rest of it logs these
            interaction_id=interaction.id,
            guild_id=interaction.guild_id,
            shard_id=shard_of(interaction.guild_id, interaction.client.shard_count),
        )
        automation = interaction.client.deps.automation
        if automation is None or interaction.guild_id is None:
            return True
        if interaction.type is not discord.InteractionType.application_command:
            return True  # autocomplete keystrokes are not commands
        command = interaction.command.qualified_name if interaction.command else "unknown"
        guild = GuildId(interaction.guild_id)
        decision = automation.decide_command(guild, command.split(" ", 1)[0])
        if decision is None or decision.allowed:
            return True
        command_outcome(interaction.client.deps, command, "throttled")
        await send_error(interaction, decision.message())
        await automation.report_throttled(guild, interaction.user.name, command, decision)
        return False

    async def on_error(
        self, interaction: discord.Interaction[VectoBeatBot], error: app_commands.AppCommandError
    ) -> None:
        cause = _unwrap(error)
        name = interaction.command.qualified_name if interaction.command else "unknown"
        if not isinstance(cause, VectoBeatError | app_commands.CheckFailure):
            _log.error("command_failed command=%s", name, exc_info=cause)
        outcome = "error" if not isinstance(cause, VectoBeatError) else "refused"
        command_outcome(interaction.client.deps, name, outcome)
        await send_error(interaction, user_message(cause))


def command_outcome(deps: BotDeps, command: str, outcome: str) -> None:
    """Count a slash command's outcome and log it (with the interaction's bound context)."""
    deps.metrics.command(command, outcome)
    _log.info("command_done", extra={"command": command, "outcome": outcome})


async def send_error(interaction: discord.Interaction, message: str) -> None:
    """An ephemeral error message; a public "thinking" response is replaced by it."""
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.message is None:
            with contextlib.suppress(discord.HTTPException):
                await interaction.delete_original_response()
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException as exc:
        _log.warning("error_reply_failed error=%s", exc)


class VectoBeatBot(commands.AutoShardedBot):
    """The bot shell: services in, cogs out."""

    def __init__(self, deps: BotDeps, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.voice_states = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=VectoBeatTree,
            help_command=None,
            chunk_guilds_at_startup=False,
            member_cache_flags=discord.MemberCacheFlags.from_intents(intents),
            **options,
        )
        self.deps = deps
        self._cog_factories: list[Callable[[VectoBeatBot], commands.Cog]] = []
        self._connecting = anyio.Event()
        self._shard_ready: dict[int, anyio.Event] = {}
        self._stopped: set[int] = set()
        self.liveness = ShardLiveness(self, time.time)
        self.connect_check: Callable[[int], bool] | None = None
        """With shard leases: whether a shard may open a gateway session now."""

    async def launch_shards(self) -> None:
        """Launch every shard, or none with leases (``shard_ids=[]``): see `start_shards`."""
        if self.shard_ids is None or self.shard_ids:
            await super().launch_shards()
        else:
            self._connection.shard_count = self.shard_count
            self._connection.shard_ids = []
        self._connecting.set()

    async def start_shards(self, shard_ids: Sequence[int], timeout: float = 60.0) -> None:  # noqa: ASYNC109
        """Connect ``shard_ids`` (held leases) once the bot is logged in; wait until each is ready."""
        if self.shard_ids is None:
            raise InvalidInput("start_shards needs a bot started with shard_ids=[] (leases).")
        await self._connecting.wait()
        fresh = [s for s in shard_ids if s not in self.shard_ids or s in self._stopped]
        self._stopped.difference_update(shard_ids)
        self.shard_ids.extend(s for s in fresh if s not in self.shard_ids)
        self.shard_ids.sort()
        self._connection.shard_ids = list(self.shard_ids)
        for shard_id in fresh:
            self._shard_ready[shard_id] = anyio.Event()
        for shard_id in fresh:
            await self.launch_shard(DiscordWebSocket.DEFAULT_GATEWAY, shard_id)
        with anyio.fail_after(timeout):
            for shard_id in fresh:
                await self._shard_ready[shard_id].wait()

    async def stop_shard(self, shard_id: int) -> None:
        """Close one shard's gateway connection for good (its lease was lost or surrendered)."""
        self._stopped.add(shard_id)
        self.liveness.forget(shard_id)
        info = self.get_shard(shard_id)
        if info is not None:
            await info.disconnect()
        for guild in self.guilds:
            if guild.shard_id == shard_id and guild.voice_client is not None:
                guild.voice_client.cleanup()

    def gateway_gate(self, shard_id: int) -> bool:
        """Whether ``shard_id`` may IDENTIFY or RESUME now (see `gate_gateway_sessions`):
        not once stopped here, nor when its lease check says it was given up."""
        allowed = shard_id not in self._stopped and (
            self.connect_check is None or self.connect_check(shard_id)
        )
        if not allowed:
            _log.warning("shard_session_refused shard=%s: this process gave the shard up", shard_id)
        return allowed

    async def on_shard_ready(self, shard_id: int) -> None:
        if shard_id not in self._stopped:
            self.liveness.connected(shard_id)
        event = self._shard_ready.get(shard_id)
        if event is not None:
            event.set()

    async def on_shard_connect(self, shard_id: int) -> None:
        if shard_id in self._stopped:  # a reconnect already under way when it was stopped
            await self.stop_shard(shard_id)
        else:
            self.liveness.connected(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        await self.on_shard_connect(shard_id)

    async def setup_hook(self) -> None:
        from vectobeat_bot.cogs import all_cogs  # noqa: PLC0415 - the cogs import the bot module

        for factory in all_cogs():
            await self.add_cog(factory(self))
        await self.tree.set_translator(CatalogueTranslator())
        record = self.deps.services.command_sync or FileCommandSync(
            Path(self.deps.config.bot_data_dir)
        )
        await sync_command_tree(self.tree, record, self.deps.instance)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Discord asks for 5 s between IDENTIFYs; a self-hosted or test gateway may not."""
        if not self.deps.fast_identify:
            await super().before_identify_hook(shard_id, initial=initial)

    async def on_guild_join(self, guild: discord.Guild) -> None:
        self.deps.events.guild_join(GuildId(guild.id), guild.name)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.deps.events.guild_remove(GuildId(guild.id))

    async def on_ready(self) -> None:
        if self.deps.ready.is_set():
            return
        self.deps.ready.set()
        for guild in self.guilds:
            self.deps.events.guild_join(GuildId(guild.id), guild.name)
        try:
            await self.restore_queues()
        finally:
            self.deps.restored.set()
            # the guild cache and everything opened at start live as long as the process:
            # keep them out of the collector's way so collections do not stall commands
            gc.freeze()

    async def restore_queues(self) -> None:
        """Restore the stored queues of every guild served here; when the queue store cannot be
        read, mark it (``deps.restore_needed``) so its return restores them."""
        guilds = {GuildId(g.id) for g in self.guilds}
        try:
            count = await self.deps.players.restore_all(guilds)
        except StorageUnavailable as exc:
            self.deps.restore_needed = True
            self.deps.metrics.restores.labels(outcome="deferred").inc()
            _log.warning("restore_deferred until the queue store is back error=%s", exc)
            return
        except VectoBeatError as exc:
            self.deps.metrics.restores.labels(outcome="failed").inc()
            _log.warning("restore_failed error=%s", exc)
            return
        self.deps.restore_needed = False
        self.deps.metrics.restores.labels(outcome="restored").inc()
        self.deps.metrics.restored_queues.inc(count)
        _log.info("queues_restored count=%d", count)

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction,
        command: app_commands.Command[Any, Any, Any] | app_commands.ContextMenu,
    ) -> None:
        command_outcome(self.deps, command.qualified_name, "ok")
