"""The bot's `PlayerService` over a real `LavalinkCluster` and fake nodes: failover and return moves.

A guild pinned to eu plays on ``eu-1``; the node dies (the player moves to ``us-1``), comes back,
and the next track (a track boundary) starts on ``eu-1`` again; an idle player moves as well.
After each move the stored snapshot and the panel's queue-sync document (a real panel app,
realtime plan) name the node and region the player is on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import attrs
import pytest
from tests.e2e.conftest import BRIDGE_TOKEN, LAVALINK_PASSWORD, BotWorld, bot_world

from vectobeat_adapters.lavalink.cluster import LavalinkCluster
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.queue_sync import QueueSync
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_core.health import HealthPolicy, NodeStatus
from vectobeat_core.ids import ChannelId, GuildId, UserId
from vectobeat_core.lavalink import LavalinkEvent
from vectobeat_core.plans import Tier
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.regions import Region
from vectobeat_core.routing import parse_node_list
from vectobeat_core.settings import ServerSettings
from vectobeat_panel.queue_pages import QUEUE_SYNC_DOCUMENT

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]

FAST = HealthPolicy(
    failures_to_down=2,
    slow_ms=250.0,
    probe_interval_s=0.2,
    probe_timeout_s=0.3,
    retry_interval_s=0.05,
    recover_after=2,
)


@attrs.define
class FakeVoice:
    """Voice as the cluster needs it: the data Discord would hand over, given at once."""

    cluster: LavalinkCluster
    channels: dict[GuildId, ChannelId] = attrs.Factory(dict)

    async def join(self, guild_id: GuildId, channel_id: ChannelId) -> None:
        self.channels[guild_id] = channel_id
        await self.cluster.update_voice(
            guild_id,
            session_id=f"session-{guild_id}",
            token=f"token-{guild_id}",
            endpoint="eu-west1.discord.media:443",
            channel_id=channel_id,
        )

    async def leave(self, guild_id: GuildId) -> None:
        self.channels.pop(guild_id, None)

    async def reconnect(self, guild_id: GuildId, channel_id: ChannelId) -> None:
        await self.join(guild_id, channel_id)

    def connected_channel(self, guild_id: GuildId) -> ChannelId | None:
        return self.channels.get(guild_id)


@attrs.define
class Bot:
    world: BotWorld
    cluster: LavalinkCluster
    service: PlayerService


@asynccontextmanager
async def in_process_bot(tmp: Path) -> AsyncIterator[Bot]:
    async with bot_world(tmp, redis_url=None) as w:
        services = w.services
        nodes = ",".join(f"{r}:{n.name}:http://127.0.0.1:{n.port}" for r, n in w.nodes.items())
        players: list[PlayerService] = []

        async def on_event(guild_id: GuildId, event: LavalinkEvent) -> None:
            await players[0].on_event(guild_id, event)

        async with (
            BridgeClient(w.panel_url, BRIDGE_TOKEN) as bridge,
            LavalinkCluster(
                parse_node_list(nodes, LAVALINK_PASSWORD),
                user_id=1_300_000_000_000_000_001,
                client_name="VectoBeat/test",
                clock=services.clock,
                audit=services.audit,
                health_store=services.health,
                on_event=on_event,
                policy=FAST,
                return_hold_s=0.0,  # home as soon as eu is up again
            ) as cluster,
            anyio.create_task_group() as tg,
        ):
            settings = SettingsSync(
                bridge=bridge, channel=None, catalogue=services.catalogue, clock=services.clock
            )
            queue_sync = QueueSync(bridge=bridge, telemetry=services.telemetry, batch_window=0.05)
            writer = CoalescingWriter(services.queues, window=0.05)
            service = PlayerService(
                cluster=cluster,
                store=services.queues,
                writer=writer,
                settings=settings,
                queue_sync=queue_sync,
                audit=services.audit,
                clock=services.clock,
                seed=lambda: 7,
            )
            players.append(service)
            queue_sync.bind(service.snapshot)
            service.attach_voice(FakeVoice(cluster))
            await tg.start(writer.run)
            await tg.start(queue_sync.run)
            yield Bot(w, cluster, service)
            tg.cancel_scope.cancel()


async def until(check: Callable[[], bool], within: float = 15.0) -> None:
    with anyio.fail_after(within):
        while not check():  # noqa: ASYNC110 - cluster, writer and panel are separate sources
            await anyio.sleep(0.02)


async def both_name(bot: Bot, guild_id: GuildId, node: str, region: str) -> None:
    """The stored snapshot and the panel's queue-sync document both name ``node``/``region``."""
    services = bot.world.services
    document = QUEUE_SYNC_DOCUMENT.format(guild=guild_id)
    with anyio.fail_after(15):
        while True:
            stored = await services.queues.load(guild_id)
            raw = await services.telemetry.get(document)
            synced = QueueSnapshot.from_json(raw) if isinstance(raw, dict) else None
            if all(
                s is not None and s.player.node == node and s.player.region == region
                for s in (stored, synced)
            ):
                return
            await anyio.sleep(0.02)


async def test_failover_and_return_moves_reach_the_snapshot_and_the_panel(
    tmp_path: Path,
) -> None:
    async with in_process_bot(tmp_path) as bot:
        w = bot.world
        made = await w.add_guild("pinned", Tier.GROWTH, ServerSettings(region=Region.EU))
        guild_id = GuildId(made.id)
        for title in ("Alpha Song", "Bravo Song"):
            await bot.service.play(
                guild_id,
                query=title,
                requester=UserId(int(made.member.id)),
                voice_channel_id=ChannelId(made.voice_channel),
            )
        await w.wait_player(made, "Alpha Song")
        await both_name(bot, guild_id, "eu-1", "eu")

        await w.nodes["eu"].kill()  # failover: the player moves to the other region
        node, _ = await w.wait_player(made, "Alpha Song", timeout=15)
        assert node == "us-1"
        await both_name(bot, guild_id, "us-1", "us")

        await w.nodes["eu"].revive()

        def eu_up() -> bool:
            return {str(v.name): v.status for v in bot.cluster.nodes()}["eu-1"] is NodeStatus.UP

        await until(eu_up)
        # a track boundary: the next track starts back home on eu-1
        entry = await bot.service.skip(guild_id, 1, UserId(int(made.member.id)))
        assert entry is not None and entry.track.title == "Bravo Song"
        node, _ = await w.wait_player(made, "Bravo Song", timeout=15)
        assert node == "eu-1"
        await both_name(bot, guild_id, "eu-1", "eu")


async def test_an_idle_player_moved_by_failover_reaches_the_snapshot_and_the_panel(
    tmp_path: Path,
) -> None:
    """Connected but playing nothing: no track start follows the move, the move itself re-syncs."""
    async with in_process_bot(tmp_path) as bot:
        w = bot.world
        made = await w.add_guild("idle", Tier.GROWTH, ServerSettings(region=Region.EU))
        guild_id = GuildId(made.id)
        await bot.service.connect(guild_id, ChannelId(made.voice_channel))
        await both_name(bot, guild_id, "eu-1", "eu")
        session = bot.service.peek(guild_id)
        assert session is not None and session.queue.current is None

        await w.nodes["eu"].kill()

        def moved() -> bool:
            info = bot.cluster.player(guild_id)
            return info is not None and str(info.node) == "us-1"

        await until(moved)
        await both_name(bot, guild_id, "us-1", "us")
