"""The SLA watch: a breach is alarmed once even with two bot processes, never before its
deadline, and the alarm is resolved once the request is resolved."""

from __future__ import annotations

import pytest

from tests.redis_support import ManualClock
from tests.unit.test_bot_routing_alarms import RecordingSink
from vectobeat_adapters.alarms import AlarmDispatcher
from vectobeat_adapters.care_desk import Actor, CareDesk
from vectobeat_adapters.services import memory_services
from vectobeat_bot.sla_watch import SlaWatch
from vectobeat_core.ids import GuildId, UserId
from vectobeat_core.plans import Tier

pytestmark = pytest.mark.anyio

STAFF = Actor(UserId(42), "Sam")
ADMIN = Actor(UserId(7), "Olivia")


async def test_one_alarm_per_breach_across_processes_then_resolved() -> None:
    clock = ManualClock()
    services = memory_services(clock=clock)
    desk = CareDesk(
        services.concierge, services.contacts, services.audit, clock, services.catalogue,
        frozenset({STAFF.user_id}),
    )  # fmt: skip
    plan = services.catalogue.plan(Tier.SCALE)  # answer within 120 min
    request = await desk.open(
        GuildId(1), plan, "concierge", ADMIN, summary="Help", details="", contact="o@x.org",
        hours=1,
    )  # fmt: skip
    sinks = [RecordingSink(), RecordingSink()]
    watches = [SlaWatch(desk, AlarmDispatcher([s], clock), interval=1) for s in sinks]
    for watch in watches:
        await watch.check()
    clock.advance(120 * 60)
    for watch in watches:
        await watch.check()
    assert sinks[0].alarms == sinks[1].alarms == []  # due now is not late yet
    clock.advance(1)
    for watch in watches:
        await watch.check()
        await watch.check()
    sent = [a for s in sinks for a in s.alarms]
    assert [(a.key, a.status) for a in sent] == [(f"sla:{request.request_id}", "trigger")]
    await desk.resolve(request.request_id, STAFF)
    for watch in watches:
        await watch.check()
    sent = [a for s in sinks for a in s.alarms]
    assert [a.status for a in sent] == ["trigger", "resolve"]
    steps = [e.summary for e in await desk.timeline(request)]
    assert steps == [
        "Concierge request #1 requested by Olivia (1 h): Help",
        "Concierge request #1 missed its SLA: Help",
        "Concierge request #1 resolved by Sam (1 h): Help",
    ]
