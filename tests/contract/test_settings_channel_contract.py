"""SettingsChannel contract: subscribers receive every change published while subscribed, in order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest

from tests.redis_support import redis_namespace
from vectobeat_adapters.memory.settings_channel import MemorySettingsChannel
from vectobeat_adapters.redis.settings_channel import RedisSettingsChannel
from vectobeat_core.ids import GuildId
from vectobeat_core.jsontypes import JSON
from vectobeat_core.ports import SettingsChange, SettingsChannel, SettingsEvent

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "redis"])
async def channel(request: pytest.FixtureRequest) -> AsyncIterator[SettingsChannel]:
    if request.param == "memory":
        yield MemorySettingsChannel()
        return
    async with redis_namespace() as (conn, keys):
        yield RedisSettingsChannel(conn, keys, poll_seconds=0.05)


async def take(events: AsyncIterator[SettingsEvent], count: int) -> list[SettingsEvent]:
    out: list[SettingsEvent] = []
    with anyio.fail_after(10):
        async for event in events:
            out.append(event)
            if len(out) == count:
                break
    return out


async def test_every_subscriber_gets_every_change_in_order(channel: SettingsChannel) -> None:
    changes = [SettingsChange(GuildId(1000 + n % 3), n) for n in range(1, 21)]
    async with channel.subscribe() as first, channel.subscribe() as second:
        for change in changes:
            assert await channel.publish(change) == 2
        assert await take(first, 20) == changes
        assert await take(second, 20) == changes


async def test_nothing_is_queued_without_subscribers(channel: SettingsChannel) -> None:
    assert await channel.publish(SettingsChange(GuildId(1), 1)) == 0
    async with channel.subscribe() as events:
        await channel.publish(SettingsChange(GuildId(1), 2))
        assert await take(events, 1) == [SettingsChange(GuildId(1), 2)]


async def test_a_closed_subscription_stops_receiving(channel: SettingsChannel) -> None:
    async with channel.subscribe() as events:
        await channel.publish(SettingsChange(GuildId(5), 1))
        assert await take(events, 1) == [SettingsChange(GuildId(5), 1)]
    assert await channel.publish(SettingsChange(GuildId(5), 2)) == 0


async def test_a_change_carries_its_state(channel: SettingsChannel) -> None:
    state: dict[str, JSON] = {
        "guild_id": "77",
        "version": 3,
        "plan": "growth",
        "settings": {"default_volume": 80, "dj_roles": ["1", "2"], "region": "eu"},
    }
    async with channel.subscribe() as events:
        await channel.publish(SettingsChange(GuildId(77), 3, state))
        assert await take(events, 1) == [SettingsChange(GuildId(77), 3, state)]
