"""Alarm sinks and the health checker against real loopback servers.

A local aiohttp receiver plays the Discord webhook, PagerDuty and a generic endpoint (it can fail
a few times, then recover, or never answer); fake Lavalink nodes play the cluster.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import attrs
import pytest
from aiohttp import web
from aiohttp.log import access_logger

from vectobeat_adapters.alarms import (
    AlarmDeliveryError,
    DiscordWebhookSink,
    GenericWebhookSink,
    PagerDutySink,
    RetryPolicy,
)
from vectobeat_adapters.lavalink import HealthChecker
from vectobeat_adapters.memory.health_store import MemoryHealthStore
from vectobeat_adapters.memory.telemetry import MemoryTelemetryCache
from vectobeat_adapters.services import SystemClock
from vectobeat_adapters.telemetry_names import node_stats_document
from vectobeat_core.errors import ConfigError
from vectobeat_core.health import Alarm, AlarmThrottle, HealthPolicy, NodeStatus
from vectobeat_core.ids import NodeName
from vectobeat_core.ports import AlarmSink
from vectobeat_core.regions import Region
from vectobeat_core.routing import NodeSpec, NodeStats
from vectobeat_testkit.lavalink import FakeLavalinkNode
from vectobeat_testkit.serving import serve

pytestmark = pytest.mark.anyio

PASSWORD = "youshallnotpass"
QUICK = RetryPolicy(attempts=4, base_delay_s=0.01, cap_s=0.05, timeout_s=0.5)
POLICY = HealthPolicy(  # generous bounds: a first probe on a loaded machine is not a slow node
    failures_to_down=2,
    slow_ms=1500.0,
    probe_interval_s=0.2,
    probe_timeout_s=2.0,
    retry_interval_s=0.05,
    recover_after=2,
)


@attrs.define
class Received:
    path: str
    headers: dict[str, str]
    body: Any


class Receiver:
    """An HTTP endpoint on 127.0.0.1 that records posts; ``fail_next`` answers errors first."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.fail_next: list[int] = []
        self.hang = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.changed = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.method == "POST" else None
        self.received.append(Received(request.path, dict(request.headers), body))
        self.changed.set()
        if self.hang:
            await asyncio.Event().wait()
        if self.fail_next:
            return web.Response(status=self.fail_next.pop(0))
        if request.method == "GET":
            return web.json_response({"id": "1", "name": "alarms"})
        return web.json_response({"status": "success"}, status=202)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self._runner, self.port = await serve(
            app, "127.0.0.1", 0, access_log=access_logger, shutdown_timeout=0.1
        )
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def bodies(self, path: str) -> list[Any]:
        return [r.body for r in self.received if r.path == path and r.body is not None]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    try:
        yield server
    finally:
        await server.stop()


def alarm(status: str = "trigger", key: str = "node:eu-1") -> Alarm:
    return Alarm(
        key=key,
        severity="critical" if status == "trigger" else "info",
        summary="Lavalink node eu-1 (eu) is down",
        status=status,  # type: ignore[arg-type]
        at=1_700_000_000.0,
    )


# -- sinks -------------------------------------------------------------------------------------


async def test_discord_sink_posts_an_embed_and_hides_its_url() -> None:
    async with receiver() as server:
        url = server.url("/api/webhooks/123/secret-token")
        async with DiscordWebhookSink(url, retry=QUICK) as sink:
            assert "secret-token" not in repr(sink)
            await sink.send(alarm())
            await sink.send(alarm("resolve"))
            await sink.ping()
        first, second = server.bodies("/api/webhooks/123/secret-token")
        embed = first["embeds"][0]
        assert embed["title"] == "Alarm: node:eu-1"
        assert embed["description"] == "Lavalink node eu-1 (eu) is down"
        assert embed["color"] == 0xE74C3C
        assert embed["timestamp"].startswith("2023-11-14T22:13:20")
        assert first["allowed_mentions"] == {"parse": []}
        assert second["embeds"][0]["title"] == "Resolved: node:eu-1"
        assert second["embeds"][0]["color"] == 0x2ECC71


async def test_pagerduty_sink_triggers_with_dedup_key_and_resolves() -> None:
    async with receiver() as server:
        async with PagerDutySink(
            "R0UTINGKEY", source="vectobeat-test", url=server.url("/v2/enqueue"), retry=QUICK
        ) as sink:
            assert "R0UTINGKEY" not in repr(sink)
            await sink.send(alarm())
            await sink.send(alarm("resolve"))
        trigger, resolve = server.bodies("/v2/enqueue")
        assert trigger == {
            "routing_key": "R0UTINGKEY",
            "event_action": "trigger",
            "dedup_key": "node:eu-1",
            "payload": {
                "summary": "Lavalink node eu-1 (eu) is down",
                "source": "vectobeat-test",
                "severity": "critical",
                "timestamp": "2023-11-14T22:13:20.000+00:00",
                "component": "lavalink",
                "group": "vectobeat",
                "class": "node_health",
            },
        }
        assert resolve == {
            "routing_key": "R0UTINGKEY",
            "event_action": "resolve",
            "dedup_key": "node:eu-1",
        }
    with pytest.raises(ConfigError):
        PagerDutySink("  ")


async def test_generic_sink_posts_json_with_bearer_token() -> None:
    async with receiver() as server:
        async with GenericWebhookSink(
            server.url("/hook"), bearer_token="s3cret", retry=QUICK
        ) as sink:
            await sink.send(alarm())
        (got,) = [r for r in server.received if r.path == "/hook"]
        assert got.headers["Authorization"] == "Bearer s3cret"
        assert got.body["key"] == "node:eu-1"
        assert got.body["status"] == "trigger"
        assert got.body["at"] == 1_700_000_000.0


async def test_failing_then_recovering_endpoint_is_retried_until_it_takes_the_alarm() -> None:
    async with receiver() as server:
        server.fail_next = [500, 503, 429]
        async with GenericWebhookSink(server.url("/hook"), retry=QUICK) as sink:
            await sink.send(alarm())
        assert len(server.bodies("/hook")) == 4


async def test_endpoint_that_keeps_failing_raises_after_every_attempt() -> None:
    async with receiver() as server:
        server.fail_next = [500] * 10
        async with GenericWebhookSink(server.url("/hook"), retry=QUICK) as sink:
            with pytest.raises(AlarmDeliveryError, match="failed after 4 attempts"):
                await sink.send(alarm())
        assert len(server.bodies("/hook")) == 4


async def test_client_errors_are_not_retried() -> None:
    async with receiver() as server:
        server.fail_next = [400]
        async with GenericWebhookSink(server.url("/hook"), retry=QUICK) as sink:
            with pytest.raises(AlarmDeliveryError, match="HTTP 400"):
                await sink.send(alarm())
        assert len(server.bodies("/hook")) == 1


async def test_endpoint_that_never_answers_times_out() -> None:
    async with receiver() as server:
        server.hang = True
        retry = RetryPolicy(attempts=2, base_delay_s=0.01, cap_s=0.02, timeout_s=0.2)
        async with DiscordWebhookSink(server.url("/api/webhooks/1/x"), retry=retry) as sink:
            with pytest.raises(AlarmDeliveryError, match="no answer within"):
                await sink.send(alarm())
        assert len(server.received) == 2


# -- health checker --------------------------------------------------------------------------


@asynccontextmanager
async def fleet(**versions: str) -> AsyncIterator[dict[str, FakeLavalinkNode]]:
    nodes: dict[str, FakeLavalinkNode] = {}
    for name in ("eu-1", "eu-2", "us-1"):
        nodes[name] = await FakeLavalinkNode(
            password=PASSWORD,
            name=name,
            region=name[:2],
            version=versions.get(name.replace("-", "_"), "4.2.2"),
            metrics=name != "us-1",
        ).start()
    try:
        yield nodes
    finally:
        for node in nodes.values():
            await node.stop()


def specs_of(nodes: dict[str, FakeLavalinkNode]) -> list[NodeSpec]:
    return [
        NodeSpec(NodeName(name), Region(name[:2]), node.base_url, PASSWORD, False)
        for name, node in nodes.items()
    ]


def statuses(checker: HealthChecker) -> dict[str, NodeStatus]:
    return {str(h.node): h.status for h in checker.healths()}


async def test_checker_records_health_and_metrics_alarms_once_and_resolves() -> None:
    clock = SystemClock()
    store = MemoryHealthStore(clock)
    async with receiver() as server, fleet() as nodes:
        discord = DiscordWebhookSink(server.url("/discord"), retry=QUICK)
        pagerduty = PagerDutySink("KEY", url=server.url("/pd"), retry=QUICK)
        hook = GenericWebhookSink(server.url("/hook"), retry=QUICK)
        sinks: list[AlarmSink] = [discord, pagerduty, hook]
        async with HealthChecker(specs_of(nodes), store, sinks, POLICY, clock) as checker:
            healths = await checker.check_once()
            assert {str(h.node): h.status for h in healths} == dict.fromkeys(
                ("eu-1", "eu-2", "us-1"), NodeStatus.UP
            )
            assert {str(h.node) for h in await store.all()} == {"eu-1", "eu-2", "us-1"}
            assert all(h.last_latency_ms is not None for h in await store.all())
            gauges = checker.metrics(NodeName("eu-1"))
            assert gauges is not None and gauges["lavalink_players_total"] == 0.0
            assert checker.metrics(NodeName("us-1")) is None  # metrics disabled there
            table = [row.to_json() for row in checker.routing_table()]
            assert {row["name"] for row in table} == {"eu-1", "eu-2", "us-1"}
            assert all(PASSWORD not in str(row) for row in table)

            await nodes["eu-1"].kill()
            for _ in range(4):
                await checker.check_once()
            assert statuses(checker)["eu-1"] is NodeStatus.DOWN
            assert statuses(checker)["eu-2"] is NodeStatus.UP
            assert "eu-1" in checker.errors()
            (pd_trigger,) = server.bodies("/pd")
            assert pd_trigger["event_action"] == "trigger"
            assert pd_trigger["dedup_key"] == "node:eu-1"
            assert "eu-1 (eu) is down" in pd_trigger["payload"]["summary"]
            assert len(server.bodies("/discord")) == 1
            assert len(server.bodies("/hook")) == 1

            await nodes["eu-1"].revive()
            for _ in range(3):
                await checker.check_once()
            assert statuses(checker)["eu-1"] is NodeStatus.UP
            pd = server.bodies("/pd")
            assert [b["event_action"] for b in pd] == ["trigger", "resolve"]
            assert pd[1]["dedup_key"] == "node:eu-1"
            assert [a.status for a in checker.sent] == ["trigger", "resolve"]
        for owned in (discord, pagerduty, hook):
            await owned.aclose()


async def test_checker_flags_a_version_liar_and_garbage_without_touching_others() -> None:
    clock = SystemClock()
    async with fleet(us_1="3.7.0") as nodes:
        nodes["eu-2"].answer_garbage()
        async with HealthChecker(
            specs_of(nodes), MemoryHealthStore(clock), [], POLICY, clock
        ) as checker:
            for _ in range(3):
                await checker.check_once()
            assert statuses(checker) == {
                "eu-1": NodeStatus.UP,
                "eu-2": NodeStatus.DOWN,
                "us-1": NodeStatus.DOWN,
            }
            errors = {str(k): v for k, v in checker.errors().items()}
            assert "Lavalink 3.7.0" in errors["us-1"]
            assert "v4" in errors["us-1"]
            assert "not JSON" in errors["eu-2"]


async def test_checker_survives_an_alarm_endpoint_that_is_down() -> None:
    clock = SystemClock()
    async with receiver() as server, fleet() as nodes:
        server.fail_next = [500] * 4
        sink = GenericWebhookSink(server.url("/hook"), retry=QUICK)
        async with HealthChecker(
            specs_of(nodes), MemoryHealthStore(clock), [sink], POLICY, clock
        ) as checker:
            await checker.check_once()
            await nodes["us-1"].kill()
            for _ in range(3):
                await checker.check_once()
            assert statuses(checker)["us-1"] is NodeStatus.DOWN
            assert (
                checker.delivery_failures
                and "failed after 4 attempts" in (checker.delivery_failures[0])
            )
            assert checker.sent == []
            # still checking, and a later alarm goes through once the endpoint is back
            await nodes["eu-2"].kill()
            for _ in range(3):
                await checker.check_once()
            assert [a.key for a in checker.sent] == ["node:eu-2"]
        await sink.aclose()


async def test_throttle_suppresses_duplicates_and_floods() -> None:
    clock = SystemClock()
    async with fleet() as nodes:
        throttle = AlarmThrottle(per_key_interval_s=300, global_limit=2, global_window_s=60)
        async with HealthChecker(
            specs_of(nodes), MemoryHealthStore(clock), [], POLICY, clock, throttle=throttle
        ) as checker:
            assert await checker.dispatch(alarm(key="node:a"))
            assert not await checker.dispatch(alarm(key="node:a"))
            assert await checker.dispatch(alarm(key="node:b"))
            assert not await checker.dispatch(alarm(key="node:c"))
            assert not await checker.dispatch(alarm("resolve", key="node:never"))
            reasons = [reason for _, reason in checker.suppressed]
            assert "duplicate" in reasons[0]
            assert "global limit" in reasons[1]
            assert "no open alarm" in reasons[2]


async def test_run_marks_a_hung_node_down_within_the_detection_bound() -> None:
    clock = SystemClock()
    policy = HealthPolicy()  # defaults: detection_bound_s == 3.0
    async with (
        fleet() as nodes,
        HealthChecker(specs_of(nodes), MemoryHealthStore(clock), [], policy, clock) as checker,
    ):
        async with anyio.create_task_group() as tg:
            tg.start_soon(checker.run)
            with anyio.fail_after(5):
                while statuses(checker)["eu-2"] is not NodeStatus.UP:  # noqa: ASYNC110
                    await anyio.sleep(0.02)
            nodes["eu-2"].hang()
            hung_at = clock.now()
            with anyio.fail_after(policy.detection_bound_s + 5):
                while statuses(checker)["eu-2"] is not NodeStatus.DOWN:  # noqa: ASYNC110
                    await anyio.sleep(0.02)
            down = {str(h.node): h for h in checker.healths()}["eu-2"]
            assert down.last_change_at is not None and down.last_change_at >= hung_at
            assert statuses(checker)["eu-1"] is NodeStatus.UP
            tg.cancel_scope.cancel()
        await nodes["eu-2"].revive()


@pytest.mark.anyio
async def test_checker_publishes_node_stats_where_the_panel_reads_players() -> None:
    clock = SystemClock()
    telemetry = MemoryTelemetryCache(clock)
    async with fleet() as nodes:
        async with HealthChecker(
            specs_of(nodes), MemoryHealthStore(clock), [], POLICY, clock, telemetry=telemetry
        ) as checker:
            await checker.check_once()
        document = await telemetry.get(node_stats_document("eu-1"))
        assert isinstance(document, dict)
        assert NodeStats.from_lavalink(document).players == 0


@pytest.mark.anyio
async def test_a_node_that_stops_answering_no_longer_shows_its_last_players() -> None:
    """Issue 20 #5: a dead node's last count of players must not outlive it (its players move)."""
    clock = SystemClock()
    telemetry = MemoryTelemetryCache(clock)
    async with (
        fleet() as nodes,
        HealthChecker(
            specs_of(nodes), MemoryHealthStore(clock), [], POLICY, clock, telemetry=telemetry
        ) as checker,
    ):
        await checker.check_once()
        assert isinstance(await telemetry.get(node_stats_document("eu-1")), dict)
        await nodes["eu-1"].kill()
        await checker.check_once()
        assert await telemetry.get(node_stats_document("eu-1")) is None
        assert isinstance(await telemetry.get(node_stats_document("eu-2")), dict)
        await nodes["eu-1"].revive()
        await checker.check_once()
        assert isinstance(await telemetry.get(node_stats_document("eu-1")), dict)
