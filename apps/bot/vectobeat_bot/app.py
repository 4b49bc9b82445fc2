"""The composition root: `run_bot(config)` opens every service once, runs the bot, and on
SIGTERM/SIGINT flushes the queue writer and stops cleanly.

Stopping is bounded: `vectobeat_bot.exit_deadline.ExitDeadline` ends a process that is still alive
`EXIT_DEADLINE_SECONDS` after the signal (status 70), logging what is stuck.

The bot starts when Redis, SQL or the panel is down (degraded, never dead): the Status API comes up
first and says what is missing, each dependency is watched and reconnected with backoff
(`DependencyWatch`), and its return is used: queues are restored when the queue store comes back,
settings served from the disk cache are re-read when the panel answers again.

Before anything of a guild is served from ``BOT_DATA_DIR`` (the last known settings, the queue
journal's replay), the bot catches up on the erasure record (`ErasureCatchUp`): an erasure run while
it was down is applied first."""

from __future__ import annotations

import asyncio
import logging
import os
import random
import signal
import socket
import sys
from contextlib import AsyncExitStack
from pathlib import Path

import anyio

from vectobeat_adapters.alarms import AlarmDispatcher, open_alarm_sinks
from vectobeat_adapters.care_desk import CareDesk
from vectobeat_adapters.config import AppConfig, node_specs
from vectobeat_adapters.dependency_watch import DependencyWatch
from vectobeat_adapters.lavalink.cluster import LavalinkCluster
from vectobeat_adapters.lavalink.sessions import SESSION_FILE, SessionFile
from vectobeat_adapters.logging_setup import bound_context
from vectobeat_adapters.queue_journal import JOURNAL_FILE, QueueJournal
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_adapters.services import Services, open_services, sla_check_interval
from vectobeat_adapters.store_generation import GenerationWatch
from vectobeat_adapters.webhooks.resolve import allowed_hosts
from vectobeat_adapters.webhooks.sender import WebhookSender
from vectobeat_bot.announcements import Announcements
from vectobeat_bot.automation import AutomationEngine
from vectobeat_bot.bot import BotDeps, VectoBeatBot
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.bridge_events import BridgeEvents
from vectobeat_bot.cogs.music import MusicCog, NowPlayingView
from vectobeat_bot.dependency_board import DependencyBoard
from vectobeat_bot.discord_compat import discord, point_discord_at
from vectobeat_bot.erasure_catchup import BridgeErasureRecord, ErasureCatchUp
from vectobeat_bot.exit_deadline import ExitDeadline
from vectobeat_bot.nowplaying import NowPlayingBoard, render_now_playing
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.queue_sync import QueueSync
from vectobeat_bot.region_notices import RegionNotices
from vectobeat_bot.routing_alarms import RoutingAlarms
from vectobeat_bot.runtime import BotStatus, watch_idle_voice
from vectobeat_bot.settings_cache import LastKnownSettings
from vectobeat_bot.settings_sync import GuildSettings, SettingsSync
from vectobeat_bot.shard_leases import ShardLeases, lease_shard_ids
from vectobeat_bot.sla_watch import SlaWatch
from vectobeat_bot.status_server import BotMetrics, StatusServer
from vectobeat_bot.voice import DiscordVoiceLink
from vectobeat_bot.web_controls import WebControls, guild_member_lookup
from vectobeat_bot.webhook_exports import WebhookExports, WebhookMetrics, resume_webhook_outages
from vectobeat_core import __version__
from vectobeat_core.decision_alarms import WebhookOutages
from vectobeat_core.errors import (
    BridgeUnavailable,
    ConfigError,
    NotBuilt,
    StorageUnavailable,
    VectoBeatError,
)
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.lavalink import LavalinkEvent, PlayerMoved
from vectobeat_core.ports import ErasureRecord
from vectobeat_core.regions import Region
from vectobeat_core.shards import shard_of

__all__ = ["fetch_bot_user_id", "run_bot"]

_log = logging.getLogger("vectobeat.bot")


async def fetch_bot_user_id(token: str) -> int:
    """The bot's user id (``GET /users/@me``), which Lavalink needs before Discord connects."""
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    try:
        data = await http.static_login(token)
    except discord.LoginFailure:
        raise ConfigError("Discord rejected DISCORD_TOKEN.") from None
    except (discord.HTTPException, OSError) as exc:
        raise ConfigError(f"Discord could not be reached to log in: {exc}") from None
    finally:
        await http.close()
    return int(data["id"])


def _announce(host: str, port: int) -> None:
    sys.stdout.write(f"vectobeat-bot status http://{host}:{port}\n")
    sys.stdout.flush()


def _now_playing_controls(bot: VectoBeatBot) -> discord.ui.View | None:
    """The /nowplaying buttons, for a rich announcement (once the music cog is loaded)."""
    cog = bot.get_cog("MusicCog")
    return NowPlayingView(cog) if isinstance(cog, MusicCog) else None


async def _wait_for_stop() -> None:
    """Return at SIGTERM/SIGINT, with the exit deadline armed: the stop that follows is bounded."""
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            _log.info("stopping signal=%s", signal.Signals(signum).name)
            ExitDeadline().arm(asyncio.get_running_loop())
            return


async def _open_writer(
    config: AppConfig, services: Services, stack: AsyncExitStack
) -> CoalescingWriter:
    """The queue writer, with the local journal unless the store is process memory."""
    if services.queues_in_process:
        return CoalescingWriter(services.queues)
    path = Path(config.bot_data_dir) / JOURNAL_FILE
    try:
        journal = await stack.enter_async_context(QueueJournal(path))
    except StorageUnavailable as exc:
        raise ConfigError(
            f"{exc.message} Point BOT_DATA_DIR at a directory the bot may write to."
        ) from None
    return CoalescingWriter(services.queues, journal=journal)


def _erasure_record(services: Services, bridge: BridgeClient | None) -> ErasureRecord | None:
    """Where the bot reads the erasure record: the panel's bridge (the panel keeps the record,
    and the bot's own database may not be the panel's), else the SQL store itself."""
    if bridge is not None:
        return BridgeErasureRecord(bridge)
    return services.compliance if "sql" in services.watches else None


async def _catch_up_erasures(
    erasures: ErasureCatchUp | None, settings: SettingsSync, writer: CoalescingWriter
) -> None:
    """Apply the erasures run while the bot was down (a fresh ``BOT_DATA_DIR`` skips those
    placed before it started), then read the last known settings."""
    if erasures is not None:
        local_data = erasures.load() or not settings.last_known_empty()
        if not local_data:
            try:
                local_data = bool(await writer.journaled_snapshots())
            except VectoBeatError:
                local_data = True  # an unreadable journal may hold anything
        await erasures.start(fresh=not local_data)
    settings.load_last_known()


async def _replay_journal(writer: CoalescingWriter) -> None:
    """Replay the journal into the store now, before any queue is restored (if the store
    answers); else once it does."""
    try:
        with anyio.fail_after(15):
            replayed = await writer.replay_journal()
    except (VectoBeatError, TimeoutError) as exc:
        _log.warning("queue_journal_replay_deferred journaled=%d error=%s", writer.journaled, exc)
        writer.note_store_down(exc)  # journal the writes, replay once the store answers
    else:
        if replayed:
            _log.info("queue_journal_replayed_at_start entries=%d", replayed)


async def run_bot(config: AppConfig) -> None:
    """Run the bot until SIGTERM/SIGINT (see the module docstring)."""
    if config.discord_token is None or not config.discord_token.reveal():
        raise NotBuilt(
            "The sandbox bot (no DISCORD_TOKEN) is not built yet: set DISCORD_TOKEN, and "
            "DISCORD_API_BASE/DISCORD_GATEWAY_URL to use the testkit's fake Discord."
        )
    token = config.discord_token.reveal()
    specs = node_specs(config)
    custom_gateway = bool(config.discord_gateway_url)
    lease_ids = lease_shard_ids(config)
    point_discord_at(config.discord_api_base, config.discord_gateway_url)
    user_id = await fetch_bot_user_id(token)
    rng = random.SystemRandom()
    async with open_services(config, degraded=True) as services, AsyncExitStack() as stack:
        bridge = None
        watches = dict(services.watches)
        if config.bot_bridge_token is not None and config.bot_bridge_token.reveal():
            bridge = await stack.enter_async_context(
                BridgeClient(config.panel_url, config.bot_bridge_token.reveal())
            )
        settings = SettingsSync(
            bridge=bridge,
            channel=services.settings_channel if services.redis_configured else None,
            catalogue=services.catalogue,
            clock=services.clock,
            last_known=LastKnownSettings(Path(config.bot_data_dir) / "settings"),
        )
        if bridge is not None:
            watches["panel_bridge"] = DependencyWatch(
                "panel_bridge", settings.probe, services.clock, error=BridgeUnavailable
            )
        # probe (and reconnect) from now on, in the background: nothing waits for a dead store
        watching = await stack.enter_async_context(anyio.create_task_group())
        stack.callback(watching.cancel_scope.cancel)
        for watch in watches.values():
            watching.start_soon(watch.run)
        queue_sync = QueueSync(bridge=bridge, telemetry=services.telemetry)
        writer = await _open_writer(config, services, stack)
        players: list[PlayerService] = []
        secret = config.webhook_signing_secret
        outages = WebhookOutages()
        await resume_webhook_outages(services.webhook_log, outages)
        webhooks = WebhookSender(
            log=services.webhook_log,
            clock=services.clock,
            signing_secret=secret.reveal() if secret else None,
            allowed_hosts=allowed_hosts(config.webhook_allowed_hosts),
            on_attempt=lambda record: outages.record(record.guild_id, record.ok, record.at),
        )
        exports = WebhookExports(webhooks, settings, services.clock)

        notices = RegionNotices()
        named_sinks = await stack.enter_async_context(open_alarm_sinks(config))
        dispatcher = AlarmDispatcher([sink for _, sink in named_sinks], services.clock)
        care = CareDesk.of(services, config)
        sla_watch = SlaWatch(care, dispatcher, interval=sla_check_interval(config))
        alarms = RoutingAlarms(
            dispatcher,
            lambda: cluster.displaced(),  # noqa: PLW0108 - the cluster is opened below
            node_up=lambda node: cluster.status_of(NodeName(node)) is NodeStatus.UP,
            sources=[outages.alarms],
        )
        automation: list[AutomationEngine] = []

        bots: list[VectoBeatBot] = []  # its shard count, once it is made

        async def on_event(guild_id: GuildId, event: LavalinkEvent) -> None:
            count = bots[0].shard_count if bots else config.shard_count
            with bound_context(
                guild_id=int(guild_id),
                shard_id=shard_of(int(guild_id), count),
                lavalink_event=type(event).__name__,
            ):
                await handle_event(guild_id, event)

        async def handle_event(guild_id: GuildId, event: LavalinkEvent) -> None:
            if automation:
                automation[0].lavalink_event(guild_id, event)
            if players:
                exports.lavalink_event(guild_id, event)
                if isinstance(event, PlayerMoved):
                    tell_region_change(guild_id, event)
                    alarms.moved()
                await players[0].on_event(guild_id, event)

        def tell_region_change(guild_id: GuildId, event: PlayerMoved) -> None:
            info = cluster.player(guild_id)
            if info is not None:
                before, after = cluster.region_of(event.from_node), cluster.region_of(event.to_node)
                notices.moved(guild_id, info.preferred_region, before, after)

        cluster = await stack.enter_async_context(
            LavalinkCluster(
                specs,
                user_id=user_id,
                client_name=f"VectoBeat/{__version__}",
                clock=services.clock,
                audit=services.audit,
                health_store=services.health,
                on_event=on_event,
                on_failover=alarms.failed_over,
                on_status=alarms.node_status,
                sessions=SessionFile(Path(config.bot_data_dir) / SESSION_FILE),
            )
        )
        service = PlayerService(
            cluster=cluster,
            store=services.queues,
            writer=writer,
            settings=settings,
            queue_sync=queue_sync,
            audit=services.audit,
            clock=services.clock,
            seed=lambda: rng.randrange(2**31),
        )
        players.append(service)
        record = _erasure_record(services, bridge)
        erasures = None
        if record is not None:
            erasures = ErasureCatchUp(
                record, settings.erase, Path(config.bot_data_dir), services.clock
            )
            settings.follow_erasures(erasures)
            service.withheld = erasures.withheld
            service.keeps = erasures.keeps
            service.erasures_applied = erasures.applied
        await _catch_up_erasures(erasures, settings, writer)  # before the journal is replayed
        await _replay_journal(writer)
        exports.bind(service)
        service.watch(exports.queue_changed)
        settings.listen(exports.settings_applied)
        queue_sync.bind(service.snapshot, service.erasures_applied)
        metrics = BotMetrics()
        metrics.registry.register(WebhookMetrics(webhooks))
        board = NowPlayingBoard()
        service.watch(board.changed)
        announcements = Announcements(notices, settings, service.effects_of)
        service.on_start(announcements.started)
        events = BridgeEvents(bridge)

        async def applied(held: GuildSettings) -> None:
            events.settings_applied(held.guild_id, held.version)

        settings.listen(applied)
        deps = BotDeps(
            config=config,
            services=services,
            settings=settings,
            players=service,
            cluster=cluster,
            metrics=metrics,
            board=board,
            events=events,
            started_at=services.clock.now(),
            notices=notices,
            dependencies=DependencyBoard(
                services.clock,
                watches={**watches, **({"erasure_record": erasures} if erasures else {})},
                nodes=cluster.nodes,
            ),
            idle_seconds=float(config.voice_idle_seconds),
            fast_identify=custom_gateway,
            care=care,
            bridge=bridge,
            instance=f"{socket.gethostname()}:{os.getpid()}",
        )
        bot = VectoBeatBot(
            deps,
            shard_count=config.shard_count,
            guild_ready_timeout=0.2 if custom_gateway else 2.0,
            **({} if lease_ids is None else {"shard_ids": []}),
        )
        bots.append(bot)
        service.attach_voice(DiscordVoiceLink(bot, cluster))
        web_controls = WebControls(
            bridge=bridge,
            players=service,
            settings=settings,
            serves=lambda guild_id: bot.get_guild(guild_id) is not None,
            member=guild_member_lookup(bot),
        )
        deps.automation = AutomationEngine(
            settings=settings,
            players=service,
            cluster=cluster,
            audit=services.audit,
            clock=services.clock,
            restart_after=float(config.automation_restart_seconds),
            on_action=exports.automation_action,
        )
        service.trim = deps.automation.trim
        automation.append(deps.automation)

        async def queue_store_back() -> None:
            if deps.ready.is_set() and deps.restore_needed:
                await bot.restore_queues()

        async def erasures_back() -> None:
            if erasures is not None and erasures.ledger.retry:  # before any queue is restored
                await erasures.catch_up()

        queue_store = "redis" if services.redis_configured else "sql"
        if queue_store in watches:
            watches[queue_store].on_recovered(erasures_back)
            watches[queue_store].on_recovered(queue_store_back)
        if "panel_bridge" in watches:
            watches["panel_bridge"].on_recovered(settings.resync_last_known)

            async def panel_back() -> None:
                if erasures is not None:
                    erasures.wake()  # read the record now, not after the back-off

            watches["panel_bridge"].on_recovered(panel_back)
        owner = deps.instance
        leases = None
        if lease_ids is not None:
            leases = ShardLeases(
                bot,
                store=services.leases,
                owner=owner,
                region=Region.parse(config.region),
                shard_ids=lease_ids,
                spare=config.shard_spare,
                stale_after=config.shard_stale_after,
                spare_max=config.shard_spare_max,
                clock=services.clock,
                audit=services.audit,
                alarm=alarms.post,
            )
        metrics.bind(BotStatus(bot, deps, owner))
        status = StatusServer(
            BotStatus(bot, deps, owner),
            metrics,
            host=config.status_host,
            port=config.status_port,
            token=config.status_token.reveal() if config.status_token else None,
            on_listening=_announce,
        )
        async with anyio.create_task_group() as tg:
            await tg.start(deps.heartbeat.run)
            await tg.start(status.serve)  # first: it says what is missing while the rest starts
            await tg.start(deps.dependencies.run)
            await tg.start(writer.run)
            await tg.start(GenerationWatch(services.queues, service.resync_all).run)
            await tg.start(webhooks.run)
            if erasures is not None:
                await tg.start(erasures.run)
            await tg.start(settings.run)
            await tg.start(queue_sync.run)
            tg.start_soon(watch_idle_voice, bot, deps)
            await tg.start(deps.automation.run)
            await tg.start(events.run)
            await tg.start(web_controls.run)
            await tg.start(
                board.run, bot, lambda guild: render_now_playing(service, cluster, guild)
            )
            await tg.start(notices.run, bot)
            await tg.start(announcements.run, bot, lambda: _now_playing_controls(bot))
            await tg.start(alarms.run)
            await tg.start(sla_watch.run)
            tg.start_soon(bot.start, token)
            if leases is not None:
                await tg.start(leases.run)
            await _wait_for_stop()
            try:
                await writer.flush()
            except VectoBeatError as exc:
                _log.error("queue_flush_failed error=%s", exc)
            with anyio.move_on_after(5):
                await queue_sync.flush()
            await bot.close()
            if leases is not None:
                with anyio.move_on_after(5):
                    await leases.release()
            tg.cancel_scope.cancel()
