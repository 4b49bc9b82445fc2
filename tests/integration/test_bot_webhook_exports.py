"""`WebhookExports` over a real `PlayerService`, `LavalinkCluster`, fake nodes and the panel: each
selected event reaches a real receiver on 127.0.0.1, signed, in the order it happened, and an
event the guild did not select is not sent."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import attrs
import pytest
from tests.e2e.conftest import BRIDGE_TOKEN, LAVALINK_PASSWORD, BotWorld, bot_world
from tests.integration.test_bot_player_moves import FAST, FakeVoice
from tests.webhook_support import SIGNING_SECRET, WebhookReceiver

from vectobeat_adapters.lavalink.cluster import LavalinkCluster
from vectobeat_adapters.redis.writer import CoalescingWriter
from vectobeat_adapters.webhooks.sender import WebhookSender
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.player_service import PlayerService
from vectobeat_bot.queue_sync import QueueSync
from vectobeat_bot.settings_sync import SettingsSync
from vectobeat_bot.webhook_exports import WebhookExports
from vectobeat_core.ids import ChannelId, GuildId, UserId
from vectobeat_core.lavalink import LavalinkEvent
from vectobeat_core.plans import Tier
from vectobeat_core.regions import Region
from vectobeat_core.routing import parse_node_list
from vectobeat_core.settings import WEBHOOK_EVENTS, ServerSettings
from vectobeat_core.webhooks import RetrySchedule
from vectobeat_panel.settings_flow import save_settings

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(120)]


@attrs.define
class Bot:
    world: BotWorld
    service: PlayerService
    settings: SettingsSync
    receiver: WebhookReceiver


@asynccontextmanager
async def exporting_bot(tmp: Path) -> AsyncIterator[Bot]:
    """The bot's pieces wired as `vectobeat_bot.app.run_bot` wires them, exports included."""
    async with WebhookReceiver() as receiver, bot_world(tmp, redis_url=None) as w:
        services = w.services
        nodes = ",".join(f"{r}:{n.name}:http://127.0.0.1:{n.port}" for r, n in w.nodes.items())
        players: list[PlayerService] = []
        async with BridgeClient(w.panel_url, BRIDGE_TOKEN) as bridge:
            settings = SettingsSync(
                bridge=bridge, channel=None, catalogue=services.catalogue, clock=services.clock
            )
            webhooks = WebhookSender(
                log=services.webhook_log,
                clock=services.clock,
                signing_secret=SIGNING_SECRET,
                allowed_hosts=("127.0.0.1",),
                schedule=RetrySchedule(3, 0.01, 0.05),
            )
            exports = WebhookExports(webhooks, settings, services.clock)

            async def on_event(guild_id: GuildId, event: LavalinkEvent) -> None:
                exports.lavalink_event(guild_id, event)
                await players[0].on_event(guild_id, event)

            async with (
                LavalinkCluster(
                    parse_node_list(nodes, LAVALINK_PASSWORD),
                    user_id=1_300_000_000_000_000_001,
                    client_name="VectoBeat/test",
                    clock=services.clock,
                    audit=services.audit,
                    health_store=services.health,
                    on_event=on_event,
                    policy=FAST,
                ) as cluster,
                anyio.create_task_group() as tg,
            ):
                queue_sync = QueueSync(bridge=bridge, telemetry=services.telemetry)
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
                exports.bind(service)
                service.watch(exports.queue_changed)
                settings.listen(exports.settings_applied)
                queue_sync.bind(service.snapshot)
                service.attach_voice(FakeVoice(cluster))
                await tg.start(writer.run)
                await tg.start(webhooks.run)
                await tg.start(settings.run)
                yield Bot(w, service, settings, receiver)
                tg.cancel_scope.cancel()


async def received(bot: Bot, kind: str) -> list[Any]:
    """The payloads of ``kind`` once at least one arrived."""
    with anyio.fail_after(20):
        while not bot.receiver.got(kind):  # noqa: ASYNC110 - a receiver fed by another task
            await anyio.sleep(0.02)
    return [json.loads(r.body) for r in bot.receiver.received if json.loads(r.body)["type"] == kind]


async def test_every_selected_event_is_exported_in_order(tmp_path: Path) -> None:
    async with exporting_bot(tmp_path) as bot:
        w = bot.world
        chosen = ServerSettings(
            region=Region.EU,
            analytics_mode="predictive",
            webhook_export_url=bot.receiver.url("/hook"),
            webhook_export_events=tuple(e for e in WEBHOOK_EVENTS if e != "queue_updated"),
        )
        made = await w.add_guild("hooks", Tier.SCALE, chosen)
        guild_id, user = GuildId(made.id), UserId(int(made.member.id))
        for title in ("Alpha Song", "Bravo Song"):
            await bot.service.play(
                guild_id,
                query=title,
                requester=user,
                voice_channel_id=ChannelId(made.voice_channel),
            )
        [started] = await received(bot, "track_started")
        track = started["data"]["track"]
        assert track["title"] == "Alpha Song" and track["user_id"] == str(user)

        await w.nodes["eu"].kill()  # the player moves to us-1
        [moved] = await received(bot, "node_failover")
        assert moved["data"] == {"from_node": "eu-1", "to_node": "us-1"}

        await bot.service.skip(guild_id, 1, user)
        await bot.service.stop(guild_id)
        [finished] = await received(bot, "queue_finished")
        assert finished["data"] == {"queue_length": 0}

        await save_settings(
            w.panel, guild_id, base_version=1, patch={"default_volume": 70}, actor="test"
        )
        [changed] = await received(bot, "settings_changed")
        assert changed["data"] == {"fields": ["default_volume"], "version": 2}

    kinds = [json.loads(r.body)["type"] for r in bot.receiver.received]
    assert "queue_updated" not in kinds  # not selected
    assert kinds.index("node_failover") < kinds.index("queue_finished")
    assert kinds.count("track_started") == 2  # Alpha, then Bravo after the skip
    assert all(r.signed_for(made.id, now=w.services.clock.now()) for r in bot.receiver.received)
    finished_titles = [
        json.loads(r.body)["data"]["track"]["title"]
        for r in bot.receiver.received
        if json.loads(r.body)["type"] == "track_finished"
    ]
    assert finished_titles[0] == "Alpha Song"
