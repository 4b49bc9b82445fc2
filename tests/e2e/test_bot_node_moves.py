"""A Lavalink failover moves a guild's player: the bot process re-snapshots and re-syncs it.

The guild plays on ``eu-1``; that node is killed, the cluster moves the player to ``us-1``, and
both the durable snapshot in Redis and the panel's live queue (queue sync) must name ``us-1``;
the guild is told, the operators get one failover and one region-evacuated alarm, and ``/status``
lists the guild as playing outside its pinned region.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import anyio
import pytest
from tests.conftest import service_url
from tests.e2e.conftest import BotWorld, E2EGuild, bot_world, running_bot
from tests.integration.test_alarms import receiver

from vectobeat_adapters.redis import RedisKeys, open_redis
from vectobeat_adapters.redis.queue_store import RedisQueueStore
from vectobeat_core.ids import GuildId
from vectobeat_core.plans import Tier
from vectobeat_core.queue import QueueSnapshot
from vectobeat_core.regions import Region
from vectobeat_core.settings import ServerSettings
from vectobeat_panel.queue_pages import QUEUE_SYNC_DOCUMENT

pytestmark = [pytest.mark.anyio, pytest.mark.slow, pytest.mark.timeout(180)]


async def wait_stored(
    store: RedisQueueStore, guild: E2EGuild, ok: Callable[[QueueSnapshot], bool]
) -> QueueSnapshot:
    """The guild's durable snapshot once ``ok`` holds for it."""
    with anyio.fail_after(15):
        while True:  # another process writes it: it can only be polled
            found = await store.load(GuildId(guild.id))
            if found is not None and ok(found):
                return found
            await anyio.sleep(0.05)


async def wait_synced(
    w: BotWorld, guild: E2EGuild, ok: Callable[[QueueSnapshot], bool]
) -> QueueSnapshot:
    """The panel's queue-sync document of the guild once ``ok`` holds for it."""
    document = QUEUE_SYNC_DOCUMENT.format(guild=guild.id)
    with anyio.fail_after(15):
        while True:
            raw = await w.services.telemetry.get(document)
            if isinstance(raw, dict):
                found = QueueSnapshot.from_json(raw)
                if ok(found):
                    return found
            await anyio.sleep(0.05)


def on(node: str) -> Callable[[QueueSnapshot], bool]:
    return lambda s: s.current is not None and s.player.node == node


async def test_failover_updates_the_snapshot_and_the_panel_queue(tmp_path: Path) -> None:
    redis_url = service_url("redis")
    async with bot_world(tmp_path, redis_url=redis_url) as w:
        guild = await w.add_guild("moved", Tier.GROWTH, ServerSettings(region=Region.EU))
        async with (
            receiver() as hook,
            running_bot(
                w,
                VECTOBEAT_ALARM_WEBHOOK_URL=hook.url("/hook"),
                VECTOBEAT_ALARM_PAGERDUTY_ROUTING_KEY="R" * 32,
                VECTOBEAT_ALARM_PAGERDUTY_URL=hook.url("/pd"),
            ) as bot,
            open_redis(redis_url) as conn,
        ):
            store = RedisQueueStore(conn, RedisKeys())
            await w.voice(guild, guild.member)
            for title in ("Alpha Song", "Bravo Song"):
                answer = await w.run(guild, guild.member, "play", {"query": title})
                assert not answer.ephemeral, answer.content
            node, _ = await w.wait_player(guild, "Alpha Song")
            assert node == "eu-1"
            before = await wait_stored(store, guild, on("eu-1"))
            assert before.player.region == "eu"
            await wait_synced(w, guild, on("eu-1"))

            await w.nodes["eu"].kill()
            node, player = await w.wait_player(guild, "Alpha Song", timeout=20)
            assert node == "us-1"
            assert player.voice.get("channelId") == str(guild.voice_channel)

            stored = await wait_stored(store, guild, on("us-1"))
            assert stored.player.region == "us"
            assert stored.current is not None and stored.current.track.title == "Alpha Song"
            assert [e.track.title for e in stored.entries] == ["Bravo Song"]
            synced = await wait_synced(w, guild, on("us-1"))
            assert synced.player.region == "us"
            assert [e.track.title for e in synced.entries] == ["Bravo Song"]
            answer = await w.run(guild, guild.member, "queue")
            assert "Alpha Song" in answer.content and "Bravo Song" in answer.content

            # the EU-pinned guild is told, where it asked for music, that it now plays in us
            def told() -> list[str]:
                return [
                    m.content
                    for m in w.fake.channel_messages(guild.text_channel)
                    if "Region eu has no healthy Lavalink node" in m.content
                ]

            with anyio.fail_after(10):
                while not told():  # noqa: ASYNC110 - the bot process posts it
                    await anyio.sleep(0.05)
            assert len(told()) == 1
            shown = (await w.run(guild, guild.owner, "settings show")).content
            assert "Playing in us now." in shown

            # the operators get one failover alarm with counts and one for the evacuated region
            def alarms() -> set[tuple[str, str]]:
                return {(b["key"], b["status"]) for b in hook.bodies("/hook")}

            with anyio.fail_after(10):
                while len(alarms()) < 2:  # noqa: ASYNC110 - the bot process sends them
                    await anyio.sleep(0.05)
            assert alarms() == {("failover:eu-1", "trigger"), ("region:eu:evacuated", "trigger")}
            failover = next(b for b in hook.bodies("/hook") if b["key"] == "failover:eu-1")
            assert "1 of 1 player(s) moved, 1 pinned player(s) moved out" in failover["summary"]
            # and /status says this guild plays outside its pinned region, and why
            displaced = (await bot.get("/status")).json()["displaced"]
            assert displaced["count"] == 1
            assert displaced["guilds"][0]["guild_id"] == str(guild.id)
            assert displaced["guilds"][0]["playing_region"] == "us"
            assert displaced["guilds"][0]["reason"].startswith("eu has no healthy Lavalink node")

            # PagerDuty got the same trigger, and its incident resolves once eu-1 is back
            def incidents() -> list[tuple[str, str]]:
                return [(b["event_action"], b["dedup_key"]) for b in hook.bodies("/pd")]

            with anyio.fail_after(10):
                while ("trigger", "failover:eu-1") not in incidents():  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            await w.nodes["eu"].revive()
            with anyio.fail_after(20):
                while ("resolve", "failover:eu-1") not in incidents():  # noqa: ASYNC110
                    await anyio.sleep(0.05)
            assert incidents().count(("trigger", "failover:eu-1")) == 1
