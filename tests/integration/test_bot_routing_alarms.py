"""The bot's failover and evacuation alarms against a real cluster of fake nodes and a webhook
receiver on 127.0.0.1: a node kill with 100 players is one failover alarm with counts (not 100),
the pinned region it evacuates is one trigger, and the resolve comes once its guilds are back."""

from __future__ import annotations

import re

import anyio
import pytest
from tests.integration.lavalink_cluster_env import running, start_playing
from tests.integration.test_alarms import QUICK, receiver

from vectobeat_adapters.alarms import AlarmDispatcher, GenericWebhookSink
from vectobeat_bot.routing_alarms import RoutingAlarms
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId
from vectobeat_core.regions import Region

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

PLAYERS = 100


async def test_a_node_kill_with_100_players_is_one_failover_alarm_and_one_evacuation() -> None:
    async with (
        receiver() as hook,
        running() as env,
        GenericWebhookSink(hook.url("/hook"), retry=QUICK) as sink,
    ):
        dispatcher = AlarmDispatcher([sink], env.clock)
        alarms = RoutingAlarms(dispatcher, env.cluster.displaced, recheck_s=0.2)
        env.failover_hook = alarms.failed_over
        await env.nodes["eu-2"].kill()
        await env.until(lambda: env.status("eu-2") is NodeStatus.DOWN)
        guilds = [GuildId(40_000 + n) for n in range(PLAYERS)]
        for guild in guilds:
            await start_playing(env, guild, Region.EU)
        assert {env.holder(g) for g in guilds} == {"eu-1"}
        async with anyio.create_task_group() as tasks:
            await tasks.start(alarms.run)
            await env.nodes["eu-1"].kill()
            await env.until(
                lambda: all(env.holder(g) in ("us-1", "us-2") for g in guilds), within=30
            )
            await env.until(lambda: len(hook.bodies("/hook")) >= 2)
            await anyio.sleep(0.5)  # any further (wrong) alarm would arrive by now
            sent = {b["key"]: b for b in hook.bodies("/hook")}
            assert len(hook.bodies("/hook")) == 2  # re-checked every 0.2 s all along
            assert {(k, b["status"]) for k, b in sent.items()} == {
                ("failover:eu-1", "trigger"),
                ("region:eu:evacuated", "trigger"),
            }
            assert (
                f"{PLAYERS} of {PLAYERS} player(s) moved, {PLAYERS} pinned player(s) "
                "moved out of their region" in sent["failover:eu-1"]["summary"]
            )
            evacuated = sent["region:eu:evacuated"]["summary"]
            assert re.search(r"evacuated: \d+ pinned guild\(s\) play outside it", evacuated)
            assert len(env.cluster.displaced()) == PLAYERS

            for guild in guilds:  # the guilds stop playing: none is outside eu any more
                await env.cluster.destroy(guild)
            await env.until(lambda: len(hook.bodies("/hook")) >= 3)
            await anyio.sleep(0.5)
            tasks.cancel_scope.cancel()
        keys = [(b["key"], b["status"]) for b in hook.bodies("/hook")]
        assert keys[2:] == [("region:eu:evacuated", "resolve")]
        assert alarms.dispatcher.suppressed == []
