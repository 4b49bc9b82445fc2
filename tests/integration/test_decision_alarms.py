"""Alarms for every decision, through a real PagerDuty sink to a receiver on 127.0.0.1: a node
kill with 100 players opens one incident (not 100) that resolves with the same ``dedup_key``
when the node is back; a webhook export failing for an hour opens one and its next delivery
resolves it."""

from __future__ import annotations

import anyio
import pytest
from tests.integration.lavalink_cluster_env import running, start_playing
from tests.integration.test_alarms import QUICK, receiver
from tests.redis_support import ManualClock
from tests.webhook_support import SIGNING_SECRET, WebhookReceiver

from vectobeat_adapters.alarms import AlarmDispatcher, PagerDutySink
from vectobeat_adapters.memory.webhook_log import MemoryWebhookDeliveryLog
from vectobeat_adapters.webhooks.sender import Export, WebhookSender
from vectobeat_bot.routing_alarms import RoutingAlarms
from vectobeat_bot.webhook_exports import resume_webhook_outages
from vectobeat_core.decision_alarms import WEBHOOK_OUTAGE_S, WebhookOutages
from vectobeat_core.health import NodeStatus
from vectobeat_core.ids import GuildId, NodeName
from vectobeat_core.regions import Region
from vectobeat_core.webhooks import ExportEvent, RetrySchedule

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

PLAYERS = 100
ROUTING_KEY = "R0UTINGKEY0123456789abcdef012345"


async def test_a_node_kill_with_100_players_is_one_incident_resolved_when_the_node_is_back() -> (
    None
):
    async with (
        receiver() as hook,
        running() as env,
        PagerDutySink(ROUTING_KEY, url=hook.url("/pd"), retry=QUICK) as pagerduty,
    ):
        alarms = RoutingAlarms(
            AlarmDispatcher([pagerduty], env.clock),
            env.cluster.displaced,
            node_up=lambda node: env.cluster.status_of(NodeName(node)) is NodeStatus.UP,
            recheck_s=0.2,
        )
        env.failover_hook = alarms.failed_over
        guilds = [GuildId(50_000 + n) for n in range(PLAYERS)]
        await env.nodes["eu-2"].kill()
        await env.until(lambda: env.status("eu-2") is NodeStatus.DOWN)
        for guild in guilds:
            await start_playing(env, guild, Region.EU)
        await env.nodes["eu-2"].revive()
        await env.until(lambda: env.status("eu-2") is NodeStatus.UP)
        assert {env.holder(g) for g in guilds} == {"eu-1"}
        async with anyio.create_task_group() as tasks:
            await tasks.start(alarms.run)
            await env.nodes["eu-1"].kill()
            await env.until(lambda: all(env.holder(g) == "eu-2" for g in guilds), within=30)
            await env.until(lambda: len(hook.bodies("/pd")) >= 1)
            await anyio.sleep(0.5)  # a per-player (wrong) alarm would arrive by now
            events = hook.bodies("/pd")
            assert [(e["event_action"], e["dedup_key"]) for e in events] == [
                ("trigger", "failover:eu-1")
            ]
            assert f"{PLAYERS} of {PLAYERS} player(s) moved" in events[0]["payload"]["summary"]
            assert events[0]["routing_key"] == ROUTING_KEY

            await env.nodes["eu-1"].revive()
            await env.until(lambda: len(hook.bodies("/pd")) >= 2, within=30)
            await anyio.sleep(0.5)
            tasks.cancel_scope.cancel()
        events = hook.bodies("/pd")
        assert [(e["event_action"], e["dedup_key"]) for e in events] == [
            ("trigger", "failover:eu-1"),
            ("resolve", "failover:eu-1"),
        ]
        assert alarms.dispatcher.suppressed == []


def export(url: str, guild: GuildId, n: int) -> Export:
    return Export(url, ExportEvent("queue_updated", guild, 1000.0 + n, queue_length=n), "basic")


async def test_webhook_exports_failing_for_an_hour_open_one_incident_until_delivered() -> None:
    clock = ManualClock()
    outages = WebhookOutages()
    guild = GuildId(4242)
    async with (
        receiver() as hook,
        WebhookReceiver() as target,
        PagerDutySink(ROUTING_KEY, url=hook.url("/pd"), retry=QUICK) as pagerduty,
    ):
        sender = WebhookSender(
            log=MemoryWebhookDeliveryLog(),
            clock=clock,
            signing_secret=SIGNING_SECRET,
            allowed_hosts=("127.0.0.1",),
            schedule=RetrySchedule(attempts=1, base_s=0.01, cap_s=0.01),
            on_attempt=lambda record: outages.record(record.guild_id, record.ok, record.at),
        )
        alarms = RoutingAlarms(
            AlarmDispatcher([pagerduty], clock), list, sources=[outages.alarms], recheck_s=0.05
        )
        url = target.url("/hook")
        target.statuses["/hook"] = [500] * 10
        await sender.deliver_now(export(url, guild, 1))
        await alarms.check()
        assert hook.bodies("/pd") == []  # failing, but not for an hour yet
        clock.advance(WEBHOOK_OUTAGE_S - 1)
        await sender.deliver_now(export(url, guild, 2))
        await alarms.check()
        assert hook.bodies("/pd") == []
        clock.advance(2)
        await sender.deliver_now(export(url, guild, 3))
        await alarms.check()
        await alarms.check()  # still failing: the open incident is not sent again
        events = hook.bodies("/pd")
        assert [(e["event_action"], e["dedup_key"]) for e in events] == [
            ("trigger", "webhooks:4242:failing")
        ]
        assert "failed for 60 minute(s)" in events[0]["payload"]["summary"]

        target.statuses["/hook"] = []
        record = await sender.deliver_now(export(url, guild, 4))
        assert record.ok
        await alarms.check()
        events = hook.bodies("/pd")
        assert [(e["event_action"], e["dedup_key"]) for e in events][1:] == [
            ("resolve", "webhooks:4242:failing")
        ]


async def test_an_outage_that_began_before_a_restart_alarms_an_hour_after_its_first_failure() -> (
    None
):
    clock = ManualClock()
    log = MemoryWebhookDeliveryLog()
    guild, healthy = GuildId(4343), GuildId(4344)
    async with receiver() as hook, WebhookReceiver() as target:
        url = target.url("/hook")
        target.statuses["/hook"] = [500] * 10

        def sender(outages: WebhookOutages) -> WebhookSender:
            return WebhookSender(
                log=log,
                clock=clock,
                signing_secret=SIGNING_SECRET,
                allowed_hosts=("127.0.0.1",),
                schedule=RetrySchedule(attempts=1, base_s=0.01, cap_s=0.01),
                on_attempt=lambda record: outages.record(record.guild_id, record.ok, record.at),
            )

        before = WebhookOutages()
        await sender(before).deliver_now(export(target.url("/ok"), healthy, 0))
        await sender(before).deliver_now(export(url, guild, 1))
        clock.advance(WEBHOOK_OUTAGE_S / 2)
        # the bot restarts: a fresh clock of outages, seeded from the delivery log
        after = WebhookOutages()
        assert await resume_webhook_outages(log, after) == 1  # the healthy guild is not failing
        async with PagerDutySink(ROUTING_KEY, url=hook.url("/pd"), retry=QUICK) as pagerduty:
            alarms = RoutingAlarms(
                AlarmDispatcher([pagerduty], clock), list, sources=[after.alarms], recheck_s=0.05
            )
            await sender(after).deliver_now(export(url, guild, 2))
            await alarms.check()
            assert hook.bodies("/pd") == []
            clock.advance(WEBHOOK_OUTAGE_S / 2)
            await alarms.check()
        events = hook.bodies("/pd")
        assert [(e["event_action"], e["dedup_key"]) for e in events] == [
            ("trigger", "webhooks:4343:failing")
        ]
        assert "failed for 60 minute(s)" in events[0]["payload"]["summary"]
