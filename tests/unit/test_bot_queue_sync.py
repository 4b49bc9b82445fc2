"""Queue sync to the panel, plan-gated, and redacted queue telemetry in the telemetry cache."""

from __future__ import annotations

import json
from typing import Any, cast

import anyio
import httpx
import pytest

from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_bot.bridge_client import BridgeClient
from vectobeat_bot.queue_sync import QueueSync
from vectobeat_bot.settings_sync import GuildSettings
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier, default_catalogue
from vectobeat_core.queue import GuildQueue, PlayerState, QueueSnapshot
from vectobeat_core.settings import ServerSettings
from vectobeat_core.telemetry import QueueTelemetry
from vectobeat_core.tracks import Track

pytestmark = pytest.mark.anyio


class Clock:
    def now(self) -> float:
        return 1_700_000_000.0


def track(i: int) -> Track:
    return Track(f"enc{i}", f"Song {i}", "A", 60_000, f"id{i}", False, True, None, None, None, "yt")


def held(guild: GuildId, tier: Tier, analytics: str = "none") -> GuildSettings:
    settings = ServerSettings(analytics_mode=analytics)  # type: ignore[arg-type]
    return GuildSettings(guild, 1, default_catalogue().plan(tier), settings, 1.0)


async def test_sync_follows_the_plan_and_caps_the_payload() -> None:
    posted: list[dict[str, Any]] = []
    got = anyio.Event()

    def answer(request: httpx.Request) -> httpx.Response:
        import json

        posted.append(json.loads(request.content))
        got.set()
        return httpx.Response(202, json={"stored": True})

    queues = {GuildId(g): GuildQueue(GuildId(g)) for g in (1, 2, 3)}
    for queue in queues.values():
        queue.add_many([track(i) for i in range(80)])
        queue.next()

    def snapshot(guild: GuildId) -> QueueSnapshot:
        return queues[guild].snapshot(PlayerState(), 5.0)

    transport = httpx.MockTransport(answer)
    async with BridgeClient("http://panel.test", "t" * 40, transport=transport) as bridge:
        sync = QueueSync(
            bridge=bridge, telemetry=MemoryTelemetryCache(Clock()), interval=3600, batch_window=0
        )
        sync.bind(snapshot)
        async with anyio.create_task_group() as tg:
            await tg.start(sync.run)
            sync.changed(GuildId(1), held(GuildId(1), Tier.FREE))
            sync.changed(GuildId(2), held(GuildId(2), Tier.STARTER))  # periodic: waits for a tick
            sync.changed(GuildId(3), held(GuildId(3), Tier.PRO))
            with anyio.fail_after(5):
                await got.wait()
            tg.cancel_scope.cancel()
    assert [p["g"] for p in posted] == ["3"]
    assert len(posted[0]["q"]) == 50 and posted[0]["h"] == []
    assert posted[0]["c"]["t"]["t"] == "Song 0"


async def test_telemetry_is_redacted_and_kept_per_guild() -> None:
    cache = MemoryTelemetryCache(Clock())
    sync = QueueSync(bridge=None, telemetry=cache)
    guild = GuildId(7)
    for at, mode, kind in (
        (1.0, "none", "play"),
        (2.0, "advanced", "play"),
        (3.0, "basic", "skip"),
    ):
        event = QueueTelemetry(kind, guild, at, track(int(at)), UserId(9))  # type: ignore[arg-type]
        sync.telemetry(event, held(guild, Tier.PRO, mode))
    await sync.flush()
    kept = cast(list[dict[str, Any]], await cache.get("queue-telemetry:7"))
    assert [(e["kind"], e.get("title")) for e in kept] == [("play", "Song 2"), ("skip", None)]
    assert all("user_id" not in e for e in kept)


async def test_each_sync_says_how_far_the_erasure_record_was_applied() -> None:
    """The snapshot goes with the place in the erasure record the bot had applied for the
    guild when it took it; a bot that does not follow the record sends none."""
    posted: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        posted.append(json.loads(request.content))
        return httpx.Response(202, json={"stored": True})

    guild = GuildId(4)
    queue = GuildQueue(guild)
    queue.add(track(1))
    applied = {guild: 3}
    transport = httpx.MockTransport(answer)
    async with BridgeClient("http://panel.test", "t" * 40, transport=transport) as bridge:
        unbound = QueueSync(bridge=bridge, telemetry=MemoryTelemetryCache(Clock()))
        unbound.bind(lambda g: queue.snapshot(PlayerState(), 5.0))
        unbound.changed(guild, held(guild, Tier.PRO))
        await unbound.flush()
        sync = QueueSync(bridge=bridge, telemetry=MemoryTelemetryCache(Clock()))
        sync.bind(lambda g: queue.snapshot(PlayerState(), 5.0), applied.__getitem__)
        for place in (3, 8):
            applied[guild] = place
            sync.changed(guild, held(guild, Tier.PRO))
            await sync.flush()
    assert "erasures_applied" not in posted[0]
    assert [p["erasures_applied"] for p in posted[1:]] == [3, 8]
    assert all(p["g"] == "4" for p in posted)
