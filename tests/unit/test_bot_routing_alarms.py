"""The bot's routing alarms: one per failover, de-duplicated by the throttle; an evacuated region
triggers once however often it is re-checked, and resolves when its last guild is back."""

from __future__ import annotations

import pytest

from tests.redis_support import ManualClock
from vectobeat_adapters.alarms import AlarmDispatcher
from vectobeat_adapters.lavalink import NodeFailover
from vectobeat_bot.routing_alarms import RoutingAlarms
from vectobeat_core.displacement import Displacement
from vectobeat_core.health import Alarm
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.regions import Region

pytestmark = pytest.mark.anyio


class RecordingSink:
    """An `AlarmSink` that keeps what it was sent."""

    def __init__(self) -> None:
        self.alarms: list[Alarm] = []

    async def send(self, alarm: Alarm) -> None:
        self.alarms.append(alarm)

    async def ping(self) -> None:
        """Always reachable."""


def failover(node: str, players: int) -> NodeFailover:
    return NodeFailover(NodeName(node), Region.EU, "node down", players, players, 0, players)


async def test_failovers_are_one_alarm_each_and_a_repeat_is_throttled() -> None:
    sink, clock = RecordingSink(), ManualClock(1_000.0)
    alarms = RoutingAlarms(AlarmDispatcher([sink], clock), list)
    await alarms.failed_over(failover("eu-1", 100))
    await alarms.failed_over(failover("eu-2", 3))
    await alarms.check()
    assert [a.key for a in sink.alarms] == ["failover:eu-1", "failover:eu-2"]
    assert "100 of 100 player(s) moved" in sink.alarms[0].summary
    clock.advance(10)
    await alarms.failed_over(failover("eu-1", 4))  # the same node again, minutes later
    await alarms.check()
    assert len(sink.alarms) == 2
    assert [reason for _, reason in alarms.dispatcher.suppressed] == [
        "duplicate of the open failover:eu-1 alarm"
    ]


async def test_an_evacuated_region_triggers_once_and_resolves_when_back() -> None:
    sink, clock = RecordingSink(), ManualClock(1_000.0)
    out: list[Displacement] = []
    alarms = RoutingAlarms(AlarmDispatcher([sink], clock), lambda: out)
    await alarms.check()
    assert sink.alarms == []
    out.extend(Displacement(GuildId(g), Region.APAC, Region.EU, "eu-1") for g in (1, 2, 3))
    for _ in range(5):
        await alarms.check()
    assert [(a.key, a.status) for a in sink.alarms] == [("region:apac:evacuated", "trigger")]
    assert "3 pinned guild(s) play outside it" in sink.alarms[0].summary
    out.pop()
    await alarms.check()
    assert len(sink.alarms) == 1  # still some outside: still evacuated
    out.clear()
    await alarms.check()
    assert [(a.key, a.status) for a in sink.alarms][1:] == [("region:apac:evacuated", "resolve")]
